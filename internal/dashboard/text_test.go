package dashboard_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/dashboard"
)

func TestTextTileRendersSanitizedHTML(t *testing.T) {
	doc := base + `  - name: notes
    type: text
    layout: { x: 3, y: 0, w: 9, h: 2 }
    content: |
      ## About these figures

      - revenue is net of refunds
      - [Definitions](https://example.com/defs)

      [click me](javascript:alert(1))

      <script>alert(1)</script>
      <img src="x.png" onerror="alert(1)">
      <a href="https://example.com" onclick="alert(1)">raw</a>
`
	d, problems := dashboard.Parse("dashboards/sales.yaml", []byte(doc))
	for _, p := range problems {
		t.Error(p)
	}
	if d == nil {
		t.Fatal("no dashboard")
	}
	w, ok := d.Widget("notes")
	if !ok {
		t.Fatal("no notes widget")
	}
	html := w.HTML
	for _, want := range []string{"<h2>About these figures</h2>", "<li>revenue is net of refunds</li>",
		`<a href="https://example.com/defs" target="_blank" rel="noopener">Definitions</a>`} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q:\n%s", want, html)
		}
	}
	for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "alert(1)</script>"} {
		if strings.Contains(strings.ToLower(html), bad) {
			t.Errorf("html keeps %q:\n%s", bad, html)
		}
	}
	// The viewer receives the HTML, never the Markdown source.
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"html":`) || strings.Contains(string(b), "## About") {
		t.Errorf("widget JSON = %s", b)
	}
}

// The sanitizer is what stands between an author's Markdown and the viewer's innerHTML: it must
// hold on its own, whatever Markdown the renderer lets through.
func TestRenderMarkdownStripsScript(t *testing.T) {
	for _, src := range []string{
		"<script>alert(1)</script>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"<img src=x onerror=alert(1)>",
		"![img](x.png \"t\")<svg onload=alert(1)>",
		"<https://example.com/?q=<script>>",
	} {
		html, err := dashboard.RenderMarkdown(src)
		if err != nil {
			t.Fatal(err)
		}
		low := strings.ToLower(html)
		for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "<svg"} {
			if strings.Contains(low, bad) {
				t.Errorf("RenderMarkdown(%q) = %q keeps %q", src, html, bad)
			}
		}
	}
}

func TestTextTileProblems(t *testing.T) {
	doc := `id: sales
title: Sales
datasets:
  - name: sales
    sql: SELECT * FROM sales
widgets:
  - name: revenue
    type: counter
    dataset: sales
    value: sum(amount)
    content: hello # want: content applies only to text widgets
    layout: { x: 0, y: 0, w: 3, h: 2 }
  - name: notes # want: a text widget needs content
    type: text
    dataset: sales # want: a text widget does not use dataset
    value: sum(amount) # want: a text widget does not use value
    contnet: hi # want: unknown field "contnet" (did you mean "content"?)
    layout: { x: 3, y: 0, w: 3, h: 2 }
  - name: empty # want: a text widget needs content
    type: text
    layout: { x: 6, y: 0, w: 3, h: 2 }
`
	_, problems := dashboard.Parse("dashboards/sales.yaml", []byte(doc))
	checkProblems(t, problems, wants(t, doc))
}
