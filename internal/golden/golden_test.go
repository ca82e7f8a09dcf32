package golden

import "testing"

func TestDiff(t *testing.T) {
	got := Diff("a\nb\nc", "a\nx\nc")
	if want := "+ x\n- b\n"; got != want {
		t.Errorf("Diff = %q, want %q", got, want)
	}
}
