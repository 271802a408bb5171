package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/switchyard/switchyard/deploy"
)

// progressView follows every deployment a command runs, from its events,
// and says where they stand: step n of m, the traffic on the new revision,
// when the bake ends, instance counts and the time left. On a terminal it
// keeps one live bar (schollz/progressbar) under the event lines; elsewhere
// it adds a plain "progress" line whenever a deployment's step or status
// changes.
type progressView struct {
	mu    sync.Mutex
	deps  map[string]*deployState
	order []string
	bar   *progressbar.ProgressBar // nil when stderr is not a terminal
}

type deployState struct {
	ev   deploy.Event
	line string
}

// newProgressView draws a live bar on w when w is a terminal.
func newProgressView(w io.Writer) *progressView {
	p := &progressView{deps: map[string]*deployState{}}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(100, progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
			progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionSetPredictTime(false),
			progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
	}
	return p
}

// describe says where one deployment stands, from its latest event.
func describe(e deploy.Event) string {
	var parts []string
	if e.Steps > 0 {
		parts = append(parts, fmt.Sprintf("step %d/%d", e.Step+1, e.Steps))
	}
	parts = append(parts, fmt.Sprintf("%s%%", formatPercent(e.Percent)))
	if e.Status != "" {
		parts = append(parts, string(e.Status))
	}
	if !e.BakeUntil.IsZero() && e.Status == deploy.StatusBaking {
		parts = append(parts, "bake ends "+e.BakeUntil.Format("15:04:05"))
	}
	if e.Instances != nil {
		s := fmt.Sprintf("%d/%d instances", e.Instances.Done, e.Instances.Total)
		if e.Instances.Failed > 0 {
			s += fmt.Sprintf(" (%d failed)", e.Instances.Failed)
		}
		parts = append(parts, s)
	}
	if !e.Status.Terminal() && e.Remaining > 0 {
		parts = append(parts, "at least "+e.Remaining.Round(time.Second).String()+" left")
	}
	return e.Target + ": " + strings.Join(parts, " · ")
}

func formatPercent(p float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", p), "0"), ".")
}

// update takes one event and returns the plain progress line to print, or
// "" when nothing a reader watches has changed (or a live bar shows it).
func (p *progressView) update(e deploy.Event) string {
	if e.DeploymentID == "" {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.deps[e.DeploymentID]
	if st == nil {
		st = &deployState{}
		p.deps[e.DeploymentID] = st
		p.order = append(p.order, e.DeploymentID)
	}
	changed := st.ev.Step != e.Step || st.ev.Status != e.Status || st.ev.Percent != e.Percent || st.line == ""
	st.ev = e
	line := describe(e)
	if len(p.order) > 1 {
		line += " · " + p.summaryLocked()
	}
	if !changed || line == st.line {
		return ""
	}
	st.line = line
	if p.bar != nil {
		p.bar.Describe(line)
		_ = p.bar.Set(int(e.Percent))
		return ""
	}
	return line
}

// summaryLocked counts the deployments followed: running, done, failed.
func (p *progressView) summaryLocked() string {
	var running, done, failed int
	for _, id := range p.order {
		switch s := p.deps[id].ev.Status; {
		case s == deploy.StatusSucceeded:
			done++
		case s.Terminal():
			failed++
		default:
			running++
		}
	}
	return fmt.Sprintf("%d running, %d done, %d failed", running, done, failed)
}

// printAbove writes a line above the live bar (or just writes it).
func (p *progressView) printAbove(w io.Writer, line string) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(w, line)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

// finish removes the live bar.
func (p *progressView) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
