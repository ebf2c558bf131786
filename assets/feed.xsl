<?xml version="1.0" encoding="UTF-8"?>
<!-- pressfeed's browser view of its RSS 2.0 and Atom 1.0 feeds (XSLT 1.0, the version
     browsers run). A feed reader ignores it; a person who opens a feed URL gets a page
     that says what the URL is for instead of a wall of XML. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:media="http://search.yahoo.com/mrss/"
    exclude-result-prefixes="atom media">
  <xsl:output method="html" version="5.0" encoding="UTF-8" indent="yes"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="url"
        select="(rss/channel/atom:link[@rel='self'] | atom:feed/atom:link[@rel='self'])[1]/@href"/>
    <xsl:variable name="site"
        select="(rss/channel/link | atom:feed/atom:link[@rel='alternate']/@href)[1]"/>
    <html lang="{(rss/channel/language | atom:feed/@xml:lang)[1]}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (news feed)</title>
        <style>
          body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
                 color: #1d1d1f; background: #f5f5f7; }
          main { max-width: 46rem; margin: 0 auto; padding: 2rem 1rem 4rem; }
          .about { background: #fff8d6; border: 1px solid #e8d98a; border-radius: 8px;
                   padding: 1rem 1.25rem; margin-bottom: 2rem; }
          .about p { margin: .25rem 0; }
          .about code { display: block; margin-top: .5rem; padding: .5rem; background: #fff;
                        border: 1px solid #e8d98a; border-radius: 4px; word-break: break-all; }
          h1 { font-size: 2rem; margin: 0 0 .25rem; }
          header p { margin: 0 0 1.5rem; color: #555; }
          article { display: flex; gap: 1rem; background: #fff; border-radius: 8px;
                    padding: 1rem; margin-bottom: 1rem; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
          article img { width: 9rem; height: 6rem; object-fit: cover; border-radius: 4px;
                        flex: none; background: #ddd; }
          article h2 { font-size: 1.15rem; margin: 0 0 .25rem; }
          article h2 a { color: #0645ad; text-decoration: none; }
          article h2 a:hover { text-decoration: underline; }
          time { font-size: .85rem; color: #666; }
          .summary { margin-top: .5rem; }
          .summary p { margin: 0; }
        </style>
      </head>
      <body>
        <main>
          <section class="about">
            <p><strong>This is a news feed.</strong> Copy its URL into a feed reader to
              follow <xsl:value-of select="$title"/>:</p>
            <code><xsl:value-of select="$url"/></code>
          </section>
          <header>
            <h1><xsl:value-of select="$title"/></h1>
            <p>
              <xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/>
              <xsl:if test="$site">
                <xsl:text> </xsl:text><a href="{$site}">Visit the site</a>
              </xsl:if>
            </p>
          </header>
          <xsl:apply-templates select="rss/channel/item | atom:feed/atom:entry"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <xsl:call-template name="entry">
      <xsl:with-param name="link" select="link"/>
      <xsl:with-param name="date" select="pubDate"/>
      <xsl:with-param name="image"
          select="(media:thumbnail/@url | enclosure[starts-with(@type, 'image/')]/@url)[1]"/>
      <xsl:with-param name="summary" select="description"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="date" select="(atom:published | atom:updated)[1]"/>
    <xsl:call-template name="entry">
      <xsl:with-param name="link" select="atom:link[@rel='alternate']/@href"/>
      <xsl:with-param name="date"
          select="concat(substring($date, 1, 10), ' ', substring($date, 12, 5))"/>
      <xsl:with-param name="image"
          select="(media:thumbnail/@url | atom:link[@rel='enclosure'][starts-with(@type, 'image/')]/@href)[1]"/>
      <xsl:with-param name="summary" select="atom:summary"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="entry">
    <xsl:param name="link"/>
    <xsl:param name="date"/>
    <xsl:param name="image"/>
    <xsl:param name="summary"/>
    <article>
      <xsl:if test="$image">
        <img src="{$image}" alt="" loading="lazy"/>
      </xsl:if>
      <div>
        <h2><a href="{$link}"><xsl:value-of select="title | atom:title"/></a></h2>
        <time><xsl:value-of select="$date"/></time>
        <!-- The summary is HTML that pressfeed sanitized when the article was stored;
             browsers that ignore disable-output-escaping show it as text, still legible. -->
        <div class="summary"><xsl:value-of select="$summary" disable-output-escaping="yes"/></div>
      </div>
    </article>
  </xsl:template>
</xsl:stylesheet>
