# frozen_string_literal: true

# Links to CNA articles that this site also holds open the site's own copy.
#
# Post files keep CNA's addresses (the golden format, never rewritten for this):
# the choice is made at build time from the posts Jekyll has just read, one Hash
# lookup per link, so an article archived later turns the older posts' links
# local on the next build. Incremental builds (`--incremental`) only render
# changed files, so the posts that link to an article added or removed since the
# last build are forced to render again (the ids of the last build are kept in
# Jekyll's cache).
#
# The same hook drops the hidden first paragraph ("title ——", from the post's
# Markdown title line): the layout shows the title, and a page read without the
# stylesheet (reader modes, feed fetchers) must not show it twice. And a photo
# whose alt text is its caption shown just below gets an empty alt: a blocked or
# broken photo would otherwise show the caption twice.
#
# The Liquid filter `cnaspider_local_links` does the same for cnaspider's edit
# records (更新紀錄 on posts and /edits/: a replaced 延伸閱讀 link names an
# article the site may hold). Without this plugin (safe mode) Liquid ignores
# the unknown filter and the links stay CNA's.
require "set"

module CNASpider
  ARTICLE_HREF = %r{href=(["'])https?://(?:www\.|m\.)?cna\.com\.tw/news/[a-z]+/(\d{12})(?:-\d+)?\.aspx(?:[?#][^"']*)?\1}i.freeze
  POST_HEAD = %r{\A(\s*<!--\d+-->\s*)?<p><a href="[^"]*">.*?</a>\s*——</p>\s*}m.freeze
  CAPTIONED_IMG = %r{(<img [^>]*?)alt="([^"]+)"([^>]*>\s*</div>\s*<div class="picinfo">)\2</div>}.freeze
  CACHE_KEY = "post-ids"

  module_function

  def post_id(doc)
    doc.data["slug"].to_s
  end

  def ids(site)
    site.instance_variable_get(:@cnaspider_ids) || {}
  end

  def linked_ids(content)
    content.scan(ARTICLE_HREF).map { |_, id| id }
  end

  def cache
    @cache ||= Jekyll::Cache.new("CNASpider::LocalLinks")
  end

  # Before rendering: the ids this build has posts for, and (incremental builds)
  # the posts whose links change because an article came or went.
  def prepare(site)
    current = {}
    site.posts.docs.each { |doc| current[post_id(doc)] = doc.url }
    site.instance_variable_set(:@cnaspider_ids, current)
    return unless site.incremental?

    previous = cache.key?(CACHE_KEY) ? cache[CACHE_KEY] : nil
    changed = previous ? (current.keys.to_set ^ previous) : nil
    return if changed && changed.empty?

    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    forced = 0
    # A plain substring search first (the usual case: a few new ids) spares the
    # regular expression on posts that cannot link to them.
    few = changed && changed.size <= 64 ? changed.to_a : nil
    site.posts.docs.each do |doc|
      content = doc.content.to_s
      next if few && few.none? { |id| content.include?(id) }

      hits = linked_ids(content)
      next if hits.empty?

      if changed.nil? ? hits.any? { |id| current.key?(id) } : hits.any? { |id| changed.include?(id) }
        # add, not force: it also records the file, or the next build renders it again.
        site.regenerator.add(doc.path)
        forced += 1
      end
    end
    took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    Jekyll.logger.info "Local links:", format("%s ids came or went; %d posts to render again (scan %.2f s)",
                                               changed ? changed.size : "all", forced, took)
  end

  def localise(doc)
    content = doc.content.sub(POST_HEAD, "")
    content = content.gsub(CAPTIONED_IMG) { "#{$1}alt=\"\"#{$3}#{$2}</div>" }
    doc.content = local_hrefs(content, doc.site, post_id(doc))
  end

  # `html` with every link to an article this build has a post for (except `own`) made local.
  def local_hrefs(html, site, own = nil)
    known = ids(site)
    base = site.config["baseurl"].to_s.chomp("/")
    html.gsub(ARTICLE_HREF) do
      quote = Regexp.last_match(1)
      id = Regexp.last_match(2)
      url = id == own ? nil : known[id]
      url ? "href=#{quote}#{base}#{url}#{quote}" : Regexp.last_match(0)
    end
  end

  module Filters
    def cnaspider_local_links(input)
      CNASpider.local_hrefs(input.to_s, @context.registers[:site])
    end
  end

  def remember(site)
    cache[CACHE_KEY] = ids(site).keys.to_set
  end
end

Liquid::Template.register_filter(CNASpider::Filters)
Jekyll::Hooks.register(:site, :post_read) { |site| CNASpider.prepare(site) }
Jekyll::Hooks.register(:posts, :post_convert) { |doc| CNASpider.localise(doc) }
Jekyll::Hooks.register(:site, :post_write) { |site| CNASpider.remember(site) }
