// Package ui holds the web view's HTML templates and static files. They are embedded
// in the binary so that the sidecar ships as one file, with no Node build step and
// nothing to fetch at run time (the page must work on a host with no network).
package ui

import "embed"

// Templates holds templates/*.html: layout.html defines the page frame, every other
// file defines "title" and "content" for one page.
//
//go:embed templates/*.html
var Templates embed.FS

// Static holds static/: the stylesheet and the one script, served as files because
// the Content-Security-Policy forbids inline script and style.
//
//go:embed static
var Static embed.FS
