package probe

import "github.com/httptop/httptop/poolstats"

// connInspector fills in each open connection's memory and TLS details
// when a snapshot is taken; nil leaves them empty.
var connInspector poolstats.Inspector
