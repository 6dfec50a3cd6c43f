//go:build !linux

package sqlitesource

import "time"

// threadCPU is not measured outside Linux.
func threadCPU() time.Duration { return 0 }
