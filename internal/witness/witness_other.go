//go:build !linux

package witness

import (
	"context"
	"fmt"
	"runtime"
)

// Start reports ErrUnavailable: the process connector is a Linux interface.
// The returned Witness answers every Match with "unavailable".
func Start(ctx context.Context, cfg Config) (*Witness, error) {
	err := fmt.Errorf("%w: not Linux (%s)", ErrUnavailable, runtime.GOOS)
	w := unavailableWitness(cfg, err)
	w.log.Warn("kernel witness unavailable", "err", err)
	return w, err
}
