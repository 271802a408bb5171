package lambda

import (
	"context"
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/platform"
)

// A mutating call whose answer was lost (platform.Uncertain) may have been
// carried out. Before reporting it, the driver reads Lambda back: when
// Lambda shows the change, it carries on as if the call had answered and
// says so in a note; when it does not, its error says the outcome was
// unknown and what the read showed (see Uncertain outcomes on
// deploy.Driver).

// lostAnswer is the error of a mutating call whose answer was lost and
// whose change the read-back did not show.
func lostAnswer(err error, shows string) error {
	return fmt.Errorf("the outcome is unknown (the answer was lost: %w); read back, %s: the call was not applied, or not yet", err, shows)
}

// updateAlias makes one UpdateAlias call. When its answer was lost it
// reads the alias back (GetAlias): an alias on the version, with the
// weights, the call asked for is a success, said in a note.
func updateAlias(ctx context.Context, c Client, in *awslambda.UpdateAliasInput) error {
	_, err := c.UpdateAlias(ctx, in)
	if err == nil || !platform.Uncertain(err) || ctx.Err() != nil {
		return err
	}
	fn, alias := aws.ToString(in.FunctionName), aws.ToString(in.Name)
	a, rerr := getAlias(ctx, c, fn, alias)
	if rerr != nil {
		return fmt.Errorf("the outcome is unknown (the answer was lost: %w), and reading alias %s back failed: %w", err, alias, rerr)
	}
	want := AliasState{Version: aws.ToString(in.FunctionVersion)}
	if in.RoutingConfig != nil {
		want.Weights = in.RoutingConfig.AdditionalVersionWeights
	}
	if !sameAlias(a, want) {
		return lostAnswer(err, "alias "+alias+" runs "+a.String())
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("UpdateAlias's answer was lost (%v); read back, alias %s runs %s: Lambda took the update",
		err, alias, a))
	return nil
}

// sameAlias reports whether a points where want does: the same version
// (want's empty Version matches any), and the same weights.
func sameAlias(a, want AliasState) bool {
	if want.Version != "" && a.Version != want.Version {
		return false
	}
	n := 0
	for v, w := range want.Weights {
		if w == 0 {
			continue
		}
		n++
		if math.Abs(a.Weights[v]-w) > 1e-9 {
			return false
		}
	}
	m := 0
	for _, w := range a.Weights {
		if w != 0 {
			m++
		}
	}
	return n == m
}

// readBackConfig reads $LATEST after an UpdateFunctionConfiguration whose
// answer was lost and returns its RevisionId once the update finished, when
// the configuration is the one sent.
func readBackConfig(ctx context.Context, c Client, o Options, fn string, cfg *FunctionConfig, cause error) (string, error) {
	if _, err := waitUpdatedRev(ctx, c, o, fn); err != nil {
		return "", fmt.Errorf("the outcome is unknown (the answer was lost: %w), and reading %s back failed: %w", cause, fn, err)
	}
	cur, err := getConfig(ctx, c, fn, latest)
	if err != nil {
		return "", fmt.Errorf("the outcome is unknown (the answer was lost: %w), and reading %s back failed: %w", cause, fn, err)
	}
	if ch := configChanges(cur, cfg); len(ch) > 0 {
		return "", lostAnswer(cause, "function "+fn+" still differs in "+ch[0].Path)
	}
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("UpdateFunctionConfiguration's answer was lost (%v); read back, %s has the configuration sent: Lambda took the update",
		cause, fn))
	return aws.ToString(cur.RevisionId), nil
}

// readBackPublish finds the version a code update with Publish whose
// answer was lost made. It reads $LATEST: when it runs the code sent (its
// CodeSha256), it asks PublishVersion for it, which Lambda answers with
// the version already published when neither code nor configuration
// changed since (so the lost call's version, never a second one), or
// publishes it if the lost call had not yet. Code whose hash is not known
// beforehand (S3, an image) cannot be told apart: the outcome stays
// unknown.
func readBackPublish(ctx context.Context, c Client, o Options, det *planDetail, cause error) (string, error) {
	fn := det.function
	sha := det.src.codeSha256()
	if _, err := waitUpdatedRev(ctx, c, o, fn); err != nil {
		return "", fmt.Errorf("the outcome is unknown (the answer was lost: %w), and reading %s back failed: %w", cause, fn, err)
	}
	cur, err := getConfig(ctx, c, fn, latest)
	if err != nil {
		return "", fmt.Errorf("the outcome is unknown (the answer was lost: %w), and reading %s back failed: %w", cause, fn, err)
	}
	got := aws.ToString(cur.CodeSha256)
	switch {
	case sha == "":
		return "", lostAnswer(cause, fn+"'s code is "+got+", which cannot be matched with "+det.src.label()+" beforehand")
	case got != sha:
		return "", lostAnswer(cause, fn+" runs code "+got+", not the code sent ("+sha+")")
	}
	var pv *awslambda.PublishVersionOutput
	err = retryConflict(ctx, o, "PublishVersion", func() error {
		var err error
		pv, err = c.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String(fn),
			CodeSha256: aws.String(sha), Description: optString(det.description)})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("the outcome is unknown (the answer was lost: %w); %s runs the code sent, but asking for its version failed: %w", cause, fn, err)
	}
	v := aws.ToString(pv.Version)
	deploy.NotifierFrom(ctx)(deploy.EventNote, fmt.Sprintf("UpdateFunctionCode's answer was lost (%v); read back, %s runs the code sent, published as version %s (Lambda publishes no second version of unchanged code)",
		cause, fn, v))
	return v, nil
}
