package api

import "github.com/inlay/inlay/internal/dashboard"

// tabWidgets narrows a query request that names no widgets to the queried widgets of the
// dashboard page (tab) it asks for with "tab", so a viewer showing one tab runs only what it
// shows. An unknown or empty tab means the first page, as in the viewer. It reports whether that
// page has nothing to run (only text tiles): the answer is then an empty result set.
func tabWidgets(d *dashboard.Dashboard, req *queryRequest) (nothing bool) {
	if req.Tab == nil || len(req.Widgets) > 0 || len(d.Pages) == 0 {
		return false
	}
	page := d.Pages[0].Name
	for _, pg := range d.Pages {
		if pg.Name == *req.Tab {
			page = pg.Name
		}
	}
	for _, w := range d.Widgets {
		if w.Page == page && w.Queried() {
			req.Widgets = append(req.Widgets, w.Name)
		}
	}
	return len(req.Widgets) == 0
}
