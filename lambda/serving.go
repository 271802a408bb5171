package lambda

import (
	"context"
	"maps"
	"slices"

	"github.com/switchyard/switchyard/deploy"
)

var (
	_ deploy.ServingReader = (*Driver)(nil)
	_ deploy.ServingReader = (*CodeDeployDriver)(nil)
)

// ReadServing reports what the alias serves now (deploy.ServingReader),
// read with GetAlias: its version at the share its weights leave, and each
// version of RoutingConfig.AdditionalVersionWeights at its weight, labelled
// "function:version". It changes nothing. A missing function or alias
// gives an error wrapping deploy.ErrNotFound.
func (d *Driver) ReadServing(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
	return readServing(ctx, d.client, t)
}

// ReadServing reports what the alias serves now, as Driver.ReadServing
// does.
func (d *CodeDeployDriver) ReadServing(ctx context.Context, t deploy.Target) ([]deploy.Share, error) {
	return readServing(ctx, d.lambda, t)
}

func readServing(ctx context.Context, c Client, t deploy.Target) ([]deploy.Share, error) {
	if t.Platform == "" {
		t.Platform = Platform
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("serving", t, "", err)
	}
	fn, alias, err := ParseTarget(t)
	if err != nil {
		return nil, wrap("serving", t, "", err)
	}
	a, err := getAlias(ctx, c, fn, alias)
	if err != nil {
		return nil, wrap("serving", t, "", err)
	}
	return a.Shares(), nil
}

// Shares is what the alias serves: its version at the share its weights
// leave, then each weighted version at its weight, in percent, labelled
// "function:version", versions with no share left out.
func (a AliasState) Shares() []deploy.Share {
	rev := func(v string) deploy.Revision {
		return deploy.Revision{ID: v, Label: shortName(a.Function) + ":" + v, Attrs: map[string]string{"function": a.Function}}
	}
	var out []deploy.Share
	if p := a.share(a.Version); p > 0 && a.Version != "" {
		out = append(out, deploy.Share{Revision: rev(a.Version), Percent: p})
	}
	for _, v := range slices.Sorted(maps.Keys(a.Weights)) {
		if v == a.Version {
			continue
		}
		if p := a.share(v); p > 0 {
			out = append(out, deploy.Share{Revision: rev(v), Percent: p})
		}
	}
	return out
}
