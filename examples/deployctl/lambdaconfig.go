package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/lambda"
)

// loadFunctionFile renders --config (lambroll's function.json or
// .jsonnet) before any Lambda call; its FunctionName stands in for
// --function, and the alias defaults to lambroll's "current".
func (f *lambdaFlags) loadFunctionFile(ctx context.Context, a *app) error {
	o := lambda.FileOptions{TFState: f.tfstate}
	var err error
	if o.ExtStr, err = extVars("ext-str", f.extStr); err != nil {
		return err
	}
	if o.ExtCode, err = extVars("ext-code", f.extCode); err != nil {
		return err
	}
	if o.LookupEnv, err = envFiles(f.envFiles); err != nil {
		return err
	}
	if strings.HasPrefix(f.tfstate, "s3://") {
		cfg, err := a.awsConfig(ctx)
		if err != nil {
			return err
		}
		o.S3 = newS3(cfg, a.endpointURL)
	}
	c, err := lambda.LoadFunctionFile(ctx, f.config, o)
	if err != nil {
		return err
	}
	f.fileConfig = c
	if f.function == "" && c.FunctionName != nil {
		f.function = *c.FunctionName
	}
	if f.alias == "" && f.function != "" {
		f.alias = "current"
	}
	return nil
}

// lambdaCreate creates a function that does not exist yet from the
// function file and the code source, publishing version 1 behind the
// alias (--dry-run says so and changes nothing).
func lambdaCreate(ctx context.Context, a *app, client *lambda.Driver, target deploy.Target, f *lambdaFlags, opts *lambda.DeployOptions, function bool) error {
	fn, alias, err := lambda.ParseTarget(target)
	if err != nil {
		return err
	}
	if f.dryRun {
		a.print(map[string]any{"target": target.String(), "createFunction": function, "createAlias": true}, func(w io.Writer) {
			if function {
				fmt.Fprintf(w, "%s: function %s does not exist: it would be created from %s, version 1 published and alias %s pointed at it\n",
					target, fn, f.config, alias)
				return
			}
			fmt.Fprintf(w, "%s: alias %s does not exist: a version would be published from %s and the alias pointed at it\n", target, alias, f.config)
		})
		return nil
	}
	rev, err := client.Create(ctx, target, *opts)
	if err != nil {
		return err
	}
	a.print(rev, func(w io.Writer) {
		if function {
			fmt.Fprintf(w, "%s: created function %s, version %s; alias %s -> %s\n", target, fn, rev.ID, alias, rev.ID)
			return
		}
		fmt.Fprintf(w, "%s: published version %s; created alias %s -> %s\n", target, rev.ID, alias, rev.ID)
	})
	return nil
}
