package server

import (
	"fmt"
	"strconv"
	"time"
)

// The chart is drawn on the server as plain SVG elements: no chart library to load,
// nothing for the Content-Security-Policy to allow, and it is there without script.

const (
	chartBars   = 48
	chartWidth  = 960
	chartHeight = 142
	plotLeft    = 44
	plotRight   = 950
	plotTop     = 22
	plotBottom  = 118
)

// chartWidths are the bucket sizes a chart may use, smallest first; the smallest that
// fits the executions' time span into chartBars is chosen.
var chartWidths = []int64{60, 5 * 60, 15 * 60, 30 * 60, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400, 30 * 86400}

type chartBar struct {
	X, W, Y, H, FY, FH int
	Title              string
}

type chartView struct {
	Empty              bool
	Width, Height      int
	Left, Right        int
	Top, Bottom        int
	Bars               []chartBar
	Start, End, Bucket string
	Max                string
	MaxY               int
	Executions, Fails  uint64
	LabelY, LegendX    int
	LegendFX           int
}

// chart sums executions and failures into buckets ending at the newest execution.
// Callers hold mu for reading.
func (x *index) chart() chartView {
	c := &x.c
	v := chartView{Width: chartWidth, Height: chartHeight, Left: plotLeft, Right: plotRight, Top: plotTop, Bottom: plotBottom,
		LabelY: plotBottom + 16, LegendX: plotRight - 150, LegendFX: plotRight - 60}
	if c.execLast == 0 {
		v.Empty = true
		return v
	}
	span := int64(c.execLast) - int64(c.execFirst)
	w := chartWidths[len(chartWidths)-1]
	for _, cw := range chartWidths {
		if span/cw < chartBars {
			w = cw
			break
		}
	}
	end := (int64(c.execLast)/w + 1) * w
	start := end - chartBars*w
	src, unit := c.hour, int64(3600)
	if w < 3600 {
		src, unit = c.minute, 60
	}
	var sums [chartBars]bucket
	for k, b := range src {
		t := k * unit
		if t < start || t >= end {
			continue
		}
		i := (t - start) / w
		sums[i][0] += b[0]
		sums[i][1] += b[1]
	}
	var most uint32
	for _, b := range sums {
		most = max(most, b[0])
		v.Executions += uint64(b[0])
		v.Fails += uint64(b[1])
	}
	most = niceCeil(most)
	slot := (plotRight - plotLeft) / chartBars
	for i, b := range sums {
		if b[0] == 0 && b[1] == 0 {
			continue
		}
		h := scale(b[0], most)
		fh := scale(b[1], most)
		at := time.Unix(start+int64(i)*w, 0).UTC()
		v.Bars = append(v.Bars, chartBar{X: plotLeft + i*slot + 1, W: slot - 2, Y: plotBottom - h, H: h, FY: plotBottom - fh, FH: fh,
			Title: fmt.Sprintf("%s: %d executions, %d failed", at.Format("2006-01-02 15:04"), b[0], b[1])})
	}
	v.Start = time.Unix(start, 0).UTC().Format("2006-01-02 15:04")
	v.End = time.Unix(end, 0).UTC().Format("2006-01-02 15:04") + " UTC"
	v.Bucket = bucketName(w)
	v.Max = strconv.FormatUint(uint64(most), 10)
	v.MaxY = plotTop + 4
	return v
}

func scale(n, most uint32) int {
	if n == 0 || most == 0 {
		return 0
	}
	return max(1, int(uint64(n)*uint64(plotBottom-plotTop)/uint64(most)))
}

// niceCeil rounds the axis maximum up to 1, 2 or 5 times a power of ten.
func niceCeil(n uint32) uint32 {
	if n <= 1 {
		return 1
	}
	for p := uint64(1); ; p *= 10 {
		for _, m := range [3]uint64{1, 2, 5} {
			if m*p >= uint64(n) {
				return uint32(m * p)
			}
		}
	}
}

func bucketName(w int64) string {
	switch {
	case w < 3600:
		return fmt.Sprintf("%d min", w/60)
	case w < 86400:
		return fmt.Sprintf("%d h", w/3600)
	case w == 86400:
		return "1 day"
	case w == 7*86400:
		return "1 week"
	}
	return fmt.Sprintf("%d days", w/86400)
}
