package dashboard

import (
	"bytes"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Text tiles are written in Markdown and rendered to HTML once, when the dashboard loads: the
// viewer inserts the result as is, so it must be safe. goldmark renders CommonMark (plus GFM
// tables, strikethrough and autolinks) without raw HTML, and bluemonday's UGC policy then strips
// anything that could run script (script elements, event handler attributes, javascript: URLs).
var (
	markdownOnce sync.Once
	markdown     goldmark.Markdown
	textPolicy   *bluemonday.Policy
)

func markdownRenderer() (goldmark.Markdown, *bluemonday.Policy) {
	markdownOnce.Do(func() {
		markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))
		p := bluemonday.UGCPolicy()
		// Links leave the embedded frame: open them in a new tab, without handing the
		// opened page a reference to the dashboard's window.
		p.AddTargetBlankToFullyQualifiedLinks(true)
		p.RequireNoFollowOnLinks(false)
		p.RequireNoReferrerOnLinks(false)
		textPolicy = p
	})
	return markdown, textPolicy
}

// RenderMarkdown renders a text tile's Markdown to sanitized HTML.
func RenderMarkdown(src string) (string, error) {
	md, policy := markdownRenderer()
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return string(policy.SanitizeBytes(buf.Bytes())), nil
}
