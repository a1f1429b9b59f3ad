# frozen_string_literal: true

# Jekyll 4.3.1 (Debian's package) dedupes the files it writes with
# Array#include?, whose Document#== compares dates: quadratic in posts and run
# twice per build (cleanup and write). Later Jekyll uses a Set; this does the
# same, by identity, which is what the dedupe means (one object in two lists).
require "set"

module Jekyll
  class Site
    def each_site_file
      seen_files = Set.new.compare_by_identity
      %w(pages static_files_to_write docs_to_write).each do |type|
        send(type).each do |item|
          next unless seen_files.add?(item)

          yield item
        end
      end
    end
  end
end
