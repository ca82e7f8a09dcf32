package dashboard

import (
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/httptop/httptop/snapshot"
)

// TestGoldenFrames draws the dashboard at the sizes a new user meets
// (a default 80x24 terminal, a large 200x50 one, a tiny one) and compares
// the text on screen with testdata/*.golden.
func TestGoldenFrames(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		// keys are pressed after the snapshot arrives.
		keys []rune
		// ready says when the frame is complete.
		ready func(frame) bool
	}{
		{name: "wide_200x50", w: 200, h: 50,
			ready: func(f frame) bool { return f.hotFuncs > 0 }},
		{name: "compact_80x24", w: 80, h: 24},
		// The hot pane beside the connections, 48 columns: the wall
		// profile's resolution is on its bottom border, whole.
		{name: "wide_120x40_hot_wall", w: 120, h: 40, keys: []rune{'w'},
			ready: func(f frame) bool {
				return f.hotKind == snapshot.ProfileWall && f.hotView == viewWaits && f.hotFuncs > 0
			}},
		{name: "compact_80x24_hot", w: 80, h: 24, keys: []rune{'\t', '\t'},
			ready: func(f frame) bool { return f.focus == paneHot && f.hotFuncs > 0 }},
		{name: "compact_80x24_hot_packages", w: 80, h: 24, keys: []rune{'\t', '\t', 'v'},
			ready: func(f frame) bool { return f.hotView == viewPackages && f.hotFuncs > 0 }},
		{name: "compact_80x24_hot_categories", w: 80, h: 24, keys: []rune{'\t', '\t', 'v', 'v'},
			ready: func(f frame) bool { return f.hotView == viewCategories && f.hotFuncs > 0 }},
		{name: "compact_80x24_hot_flat", w: 80, h: 24, keys: []rune{'\t', '\t', 'v', 'v', 'v'},
			ready: func(f frame) bool { return f.hotView == viewFlat && f.hotFuncs > 0 }},
		{name: "compact_80x24_hot_wall", w: 80, h: 24, keys: []rune{'\t', '\t', 'w'},
			ready: func(f frame) bool {
				return f.hotKind == snapshot.ProfileWall && f.hotView == viewWaits && f.hotFuncs > 0
			}},
		{name: "compact_80x24_hot_wall_flat", w: 80, h: 24, keys: []rune{'\t', '\t', 'w', 'v'},
			ready: func(f frame) bool {
				return f.hotKind == snapshot.ProfileWall && f.hotView == viewFlat && f.hotFuncs > 0
			}},
		{name: "compact_80x24_diag", w: 80, h: 24, keys: []rune{'\t', '\t', '\t'},
			ready: func(f frame) bool { return f.focus == paneDiag }},
		{name: "help_80x24", w: 80, h: 24, keys: []rune{'h'},
			ready: func(f frame) bool { return f.help }},
		{name: "small_40x10", w: 40, h: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := start(t, tt.w, tt.h)
			f := hs.send(withHandshakesAndDialOnly(testSnapshot(1)))
			for _, r := range tt.keys {
				if r == '\t' {
					hs.scr.InjectKey(tcell.KeyTab, 0, tcell.ModNone)
				} else {
					hs.scr.InjectKey(tcell.KeyRune, r, tcell.ModNone)
				}
			}
			if tt.ready != nil {
				f = hs.waitFrame("a complete frame", tt.ready)
			}
			checkGolden(t, tt.name, f)
		})
	}
}
