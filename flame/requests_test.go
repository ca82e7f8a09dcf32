package flame

import (
	"errors"
	"math"
	"testing"
)

// TestAttributeRequests: of clientProfile's 1000 ms, the requests cost
// 820: the round trip (100), the work of main.worker that issues it
// (signing 200 + 200 by the SDK, decoding 200) and the connection's read
// loop (120). GC workers (90), the server in the process (20) and
// httptop's own work (70) are not the requests'.
func TestAttributeRequests(t *testing.T) {
	r, err := AttributeRequests(clientProfile(), -1, testModules)
	if err != nil {
		t.Fatal(err)
	}
	const ms = 1e6
	if r.Total != 1000*ms || r.Httptop != 70*ms || r.Requests != 820*ms {
		t.Errorf("total %d, httptop %d, requests %d; want 1000, 70 and 820 ms", r.Total/ms, r.Httptop/ms, r.Requests/ms)
	}
	for name, want := range map[string]int64{"main.sign": 200, sdkSign: 200, "main.decode": 200, "main.worker": 100} {
		e := entry(r.Code, name)
		if e == nil || e.Value != want*ms || math.Abs(e.Pct-100*float64(want)/820) > 1e-9 {
			t.Errorf("%s = %+v, want %d ms (%.1f%% of the requests' CPU)", name, e, want, 100*float64(want)/820)
		}
	}
	var catSum, codeSum int64
	for _, e := range r.Categories {
		catSum += e.Value
	}
	for _, e := range r.Code {
		codeSum += e.Value
	}
	if catSum != r.Requests || codeSum != r.Requests {
		t.Errorf("categories sum to %d, code to %d, want both %d", catSum, codeSum, r.Requests)
	}
	if e := entry(r.Categories, CategoryGC.Title()); e == nil || e.Value != 50*ms {
		t.Errorf("GC & allocation of the requests = %+v, want the SDK signer's 50 ms of allocation, not the GC workers'", e)
	}
}

func TestAttributeRequestsNil(t *testing.T) {
	if _, err := AttributeRequests(nil, -1, Modules{}); !errors.Is(err, ErrNilProfile) {
		t.Errorf("err = %v, want ErrNilProfile", err)
	}
}
