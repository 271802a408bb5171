package deploytest

import (
	"context"
	"fmt"

	"github.com/switchyard/switchyard/deploy"
)

var _ deploy.Finder = (*Driver)(nil)

// Live returns the deployment that holds the target (one in flight, or one
// stopped part way with its traffic split), or nil. It changes nothing.
func (f *Driver) Live(ctx context.Context, t deploy.Target) (*deploy.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record(Call{Op: "Live", Target: t.Name})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ft := f.targets[t.Name]
	if ft == nil {
		return nil, fmt.Errorf("%w: target %s", deploy.ErrNotFound, t.Name)
	}
	fd := f.deployments[ft.live]
	if fd == nil {
		return nil, nil
	}
	f.advance(fd)
	if fd.d.Status.Terminal() && (fd.d.Percent == 0 || fd.d.Percent >= 100) {
		return nil, nil
	}
	return fd.d.Clone(), nil
}
