//go:build before

package bench

import (
	"net/http"

	before "github.com/httptop/httptop-before/probe"
)

// With the build tag "before", the module also measures an earlier
// httptop, built from another commit under the module path
// github.com/httptop/httptop-before (run.sh's BEFORE=commit arranges
// it), beside the current one in the same round robin.
func init() {
	extraVariants = append(extraVariants, Variant{"httptop-before", func(tr *http.Transport) Client {
		return newRTClient(tr, before.Wrap(tr, before.WithCollector(before.NewCollector(before.CollectorOptions{}))), nil)
	}})
}
