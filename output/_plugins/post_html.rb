# frozen_string_literal: true

# Posts that cnaspider wrote are already HTML: a title line for Markdown readers
# ("<!--ms-->", "[title](url)", "------") and then one <div> block of the
# article's cleaned HTML. Converting them with kramdown cost ~9 ms of CPU a post
# (most of a year's build, docs/benchmarks.md); this converter passes the
# block through as it is and drops the title line, which the layout shows as
# the <h1> (kramdown rendered it as a hidden paragraph that local_links.rb removed).
#
# Anything else with a Markdown extension (a post cnaspider did not write, a
# hand-written page) is converted by the site's Markdown converter as before.
# Without plugins (safe mode) this file is not loaded and kramdown converts
# every post, as it always did.
module CNASpider
  # The golden post's head, exactly as cnaspider/publishing/post.py writes it, then its block.
  POST_SHAPE = %r{\A(?:<!--\d+-->\n)?\[[^\n]*\]\([^)\s]*\)\n-+\n\n(?=<div>\n)}.freeze

  class PostHTML < Jekyll::Converter
    safe true
    priority :high

    def matches(ext)
      ext.casecmp?(".md")
    end

    def output_ext(_ext)
      ".html"
    end

    def convert(content)
      head = POST_SHAPE.match(content)
      body = head && content[head.end(0)..]
      return body if body && html_block?(body)

      markdown.convert(content)
    end

    private

    # One <div> block that closes at the end: no Markdown after it to convert.
    def html_block?(body)
      body.rstrip.end_with?("</div>") && !body.include?("\n\n")
    end

    def markdown
      @markdown ||= Jekyll::Converters::Markdown.new(@config).tap(&:setup)
    end
  end
end

# kramdown must not convert the .md posts a second time: only this converter matches .md.
module Jekyll
  module Converters
    class Markdown
      alias_method :cnaspider_matches, :matches

      def matches(ext)
        return false if ext.casecmp?(".md")

        cnaspider_matches(ext)
      end
    end
  end
end
