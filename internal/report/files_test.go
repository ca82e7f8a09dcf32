package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestAppendIndented(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":[1,2,3],"b":{"c":"x"}}`, "{\n  \"a\": [1, 2, 3],\n  \"b\": {\n    \"c\": \"x\"\n  }\n}"},
		{`[{"a":1},{"b":[]}]`, "[\n  {\n    \"a\": 1\n  },\n  {\n    \"b\": []\n  }\n]"},
		{`{"s":"[{,:\"}]","e":{},"n":null}`, "{\n  \"s\": \"[{,:\\\"}]\",\n  \"e\": {},\n  \"n\": null\n}"},
		{`["a,b","c"]`, `["a,b", "c"]`},
	}
	for _, tt := range tests {
		got := string(appendIndented(nil, []byte(tt.in)))
		if got != tt.want {
			t.Errorf("appendIndented(%s) =\n%s\nwant\n%s", tt.in, got, tt.want)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(got)); err != nil || compact.String() != tt.in {
			t.Errorf("appendIndented(%s) does not compact back: %q, %v", tt.in, compact.String(), err)
		}
	}
}
