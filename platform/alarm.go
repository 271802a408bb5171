package platform

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/switchyard/switchyard/deploy"
)

// CloudWatchAPI is the part of the CloudWatch API the alarm gate uses.
// *cloudwatch.Client satisfies it.
type CloudWatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var _ CloudWatchAPI = (*cloudwatch.Client)(nil)

// InsufficientDataPolicy says how the alarm gate treats an alarm in the
// INSUFFICIENT_DATA state.
type InsufficientDataPolicy int

const (
	// InsufficientDataPass lets the deployment go on (the default). A new
	// version often has no data points yet, so this is what CodeDeploy does
	// unless told otherwise.
	InsufficientDataPass InsufficientDataPolicy = iota
	// InsufficientDataFail refuses the deployment. The error does not wrap
	// deploy.ErrAlarm (no alarm fired), so the engine applies its OnFailure
	// rollback policy.
	InsufficientDataFail
)

// MissingAlarmPolicy says how the alarm gate treats a named alarm that does
// not exist, or a prefix that matches no alarm.
type MissingAlarmPolicy int

const (
	// MissingAlarmFail refuses the deployment with an error wrapping
	// deploy.ErrNotFound (the default): a misspelt alarm name must not turn
	// the gate into one that always passes.
	MissingAlarmFail MissingAlarmPolicy = iota
	// MissingAlarmIgnore skips missing alarms, as CodeDeploy's
	// ignorePollAlarmFailure does.
	MissingAlarmIgnore
)

// DefaultAlarmGateName is the gate name used when AlarmGateOptions.Name is
// empty.
const DefaultAlarmGateName = "cloudwatch-alarms"

// maxAlarmNamesPerCall is DescribeAlarms' limit on AlarmNames.
const maxAlarmNamesPerCall = 100

// AlarmGateOptions configures an AlarmGate. The zero value of each field
// means its documented default; at least one of Names and Prefixes must be
// set.
type AlarmGateOptions struct {
	// Name is the gate's Name(). Default DefaultAlarmGateName.
	Name string
	// Names lists alarms (metric or composite) by exact name.
	Names []string
	// Prefixes selects every alarm whose name starts with one of them.
	Prefixes []string
	// InsufficientData says what an INSUFFICIENT_DATA alarm does. Default
	// InsufficientDataPass.
	InsufficientData InsufficientDataPolicy
	// Missing says what a named alarm that does not exist, or a prefix that
	// matches nothing, does. Default MissingAlarmFail.
	Missing MissingAlarmPolicy
	// Batcher, when set, looks Names up together with the other gates that
	// share it, in DescribeAlarms calls it makes with its own client (see
	// AlarmBatcher); it must reach the same account and region as the
	// gate's client. Prefixes are looked up by the gate as without it.
	// Every policy and error means what it means without it. Default nil:
	// the gate makes its own calls.
	Batcher *AlarmBatcher
}

// AlarmGate is a deploy.Gate that refuses a deployment while any of its
// CloudWatch alarms is in the ALARM state. It checks in every phase
// (BeforeAllowTraffic, Shift, Bake, AfterAllowTraffic, Watch); wrap it in a
// deploy.GateFunc with Phases to narrow that.
//
// Alarms are looked up with DescribeAlarms (metric and composite alarms,
// every page) at each check, by name in calls of up to 100 names
// (gathered with other gates' when AlarmGateOptions.Batcher is set) and by
// prefix; nothing is cached between checks. An alarm in
// ALARM gives an *AlarmError that wraps deploy.ErrAlarm, so the engine
// applies the OnAlarm rollback policy.
//
// Lambda per-version alarms: to watch only the new version of a function
// behind an alias, create alarms on the AWS/Lambda metrics with the
// dimensions FunctionName, Resource ("function:alias") and ExecutedVersion
// (the version number); LambdaVersionDimensions builds them. Alarms on
// FunctionName alone also count the old version's traffic.
//
// An AlarmGate is safe for concurrent use.
type AlarmGate struct {
	api  CloudWatchAPI
	opts AlarmGateOptions
}

var _ deploy.Gate = (*AlarmGate)(nil)

// NewAlarmGate returns a gate over the alarms opts selects. It returns an
// error wrapping deploy.ErrInvalidRequest when api is nil, when neither
// Names nor Prefixes is set, when a name or prefix is empty, or when a
// policy is out of range. It makes no AWS call.
func NewAlarmGate(api CloudWatchAPI, opts AlarmGateOptions) (*AlarmGate, error) {
	if api == nil {
		return nil, deploy.Invalid("cloudwatch client", "", "must not be nil")
	}
	if len(opts.Names) == 0 && len(opts.Prefixes) == 0 {
		return nil, deploy.Invalid("alarms", "", "name at least one alarm or prefix")
	}
	for i, n := range opts.Names {
		if strings.TrimSpace(n) == "" {
			return nil, deploy.Invalid(fmt.Sprintf("alarms.names[%d]", i), n, "must not be empty")
		}
		if len(n) > 255 {
			return nil, deploy.Invalid(fmt.Sprintf("alarms.names[%d]", i), n, "longer than 255 characters")
		}
	}
	for i, p := range opts.Prefixes {
		if strings.TrimSpace(p) == "" {
			return nil, deploy.Invalid(fmt.Sprintf("alarms.prefixes[%d]", i), p, "must not be empty")
		}
		if len(p) > 255 {
			return nil, deploy.Invalid(fmt.Sprintf("alarms.prefixes[%d]", i), p, "longer than 255 characters")
		}
	}
	if opts.InsufficientData != InsufficientDataPass && opts.InsufficientData != InsufficientDataFail {
		return nil, deploy.Invalid("alarms.insufficientData", fmt.Sprint(int(opts.InsufficientData)), "unknown policy")
	}
	if opts.Missing != MissingAlarmFail && opts.Missing != MissingAlarmIgnore {
		return nil, deploy.Invalid("alarms.missing", fmt.Sprint(int(opts.Missing)), "unknown policy")
	}
	if opts.Name == "" {
		opts.Name = DefaultAlarmGateName
	}
	opts.Names = dedupe(opts.Names)
	opts.Prefixes = dedupe(opts.Prefixes)
	return &AlarmGate{api: api, opts: opts}, nil
}

// Name returns the gate's name (AlarmGateOptions.Name).
func (g *AlarmGate) Name() string { return g.opts.Name }

// Check looks the alarms up and refuses the deployment when one is in
// ALARM (an *AlarmError wrapping deploy.ErrAlarm), or in
// INSUFFICIENT_DATA under InsufficientDataFail (an *AlarmError that does
// not wrap ErrAlarm). A missing alarm under MissingAlarmFail gives an error
// wrapping deploy.ErrNotFound. A failed DescribeAlarms call gives an error
// classified by Wrap. The phase does not matter: every phase is checked.
func (g *AlarmGate) Check(ctx context.Context, _ deploy.Check) error {
	states, err := g.Alarms(ctx)
	if err != nil {
		return err
	}
	return g.judge(states)
}

// AlarmState is one alarm as the gate saw it.
type AlarmState struct {
	// Name is the alarm name.
	Name string
	// Composite is true for a composite alarm.
	Composite bool
	// State is OK, ALARM or INSUFFICIENT_DATA.
	State cwtypes.StateValue
	// Reason is CloudWatch's StateReason.
	Reason string
	// UpdatedAt is when the state last changed.
	UpdatedAt time.Time
}

// AlarmError reports the alarms that made the gate refuse a deployment.
type AlarmError struct {
	// Gate is the gate's name.
	Gate string
	// Alarms are the offending alarms, sorted by name.
	Alarms []AlarmState
}

// Error names each alarm with its state and reason.
func (e *AlarmError) Error() string {
	parts := make([]string, len(e.Alarms))
	for i, a := range e.Alarms {
		parts[i] = fmt.Sprintf("%s is %s", a.Name, a.State)
		if a.Reason != "" {
			parts[i] += " (" + a.Reason + ")"
		}
	}
	return e.Gate + ": " + strings.Join(parts, "; ")
}

// Unwrap returns deploy.ErrAlarm when at least one alarm is in ALARM, so
// errors.Is(err, deploy.ErrAlarm) tells a fired alarm from refused
// INSUFFICIENT_DATA.
func (e *AlarmError) Unwrap() error {
	for _, a := range e.Alarms {
		if a.State == cwtypes.StateValueAlarm {
			return deploy.ErrAlarm
		}
	}
	return nil
}

// Alarms returns the current state of every alarm the gate watches, sorted
// by name. A missing named alarm or an empty prefix gives an error wrapping
// deploy.ErrNotFound under MissingAlarmFail.
func (g *AlarmGate) Alarms(ctx context.Context) ([]AlarmState, error) {
	found := map[string]AlarmState{}
	var missing []string
	if b := g.opts.Batcher; b != nil && len(g.opts.Names) > 0 {
		got, err := b.lookup(ctx, g.opts.Names)
		if err != nil {
			return nil, Wrap("cloudwatch", "DescribeAlarms", g.opts.Name, err)
		}
		found = got
	} else {
		for start := 0; start < len(g.opts.Names); start += maxAlarmNamesPerCall {
			end := min(start+maxAlarmNamesPerCall, len(g.opts.Names))
			if err := describeAlarms(ctx, g.api, g.opts.Names[start:end], nil, found); err != nil {
				return nil, Wrap("cloudwatch", "DescribeAlarms", g.opts.Name, err)
			}
		}
	}
	for _, n := range g.opts.Names {
		if _, ok := found[n]; !ok {
			missing = append(missing, "alarm "+n)
		}
	}
	for _, p := range g.opts.Prefixes {
		got := map[string]AlarmState{}
		if err := describeAlarms(ctx, g.api, nil, aws.String(p), got); err != nil {
			return nil, Wrap("cloudwatch", "DescribeAlarms", g.opts.Name, err)
		}
		if len(got) == 0 {
			missing = append(missing, "alarms with prefix "+p)
		}
		for k, v := range got {
			found[k] = v
		}
	}
	if len(missing) > 0 && g.opts.Missing == MissingAlarmFail {
		return nil, fmt.Errorf("%s: %w: %s", g.opts.Name, deploy.ErrNotFound, strings.Join(missing, ", "))
	}
	out := make([]AlarmState, 0, len(found))
	for _, a := range found {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// describeAlarms reads the metric and composite alarms named names (at most
// maxAlarmNamesPerCall), or whose names start with prefix, every page, into
// into. Its error is the SDK's, not wrapped.
func describeAlarms(ctx context.Context, api CloudWatchAPI, names []string, prefix *string, into map[string]AlarmState) error {
	in := &cloudwatch.DescribeAlarmsInput{AlarmNames: names, AlarmNamePrefix: prefix,
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
		// CloudWatch pages 50 alarms at a time unless asked for its maximum.
		MaxRecords: aws.Int32(100)}
	// The SDK's paginator follows NextToken and stops on a repeated token.
	pages := cloudwatch.NewDescribeAlarmsPaginator(api, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, a := range out.MetricAlarms {
			into[aws.ToString(a.AlarmName)] = AlarmState{
				Name:      aws.ToString(a.AlarmName),
				State:     a.StateValue,
				Reason:    aws.ToString(a.StateReason),
				UpdatedAt: aws.ToTime(a.StateUpdatedTimestamp),
			}
		}
		for _, a := range out.CompositeAlarms {
			into[aws.ToString(a.AlarmName)] = AlarmState{
				Name:      aws.ToString(a.AlarmName),
				Composite: true,
				State:     a.StateValue,
				Reason:    aws.ToString(a.StateReason),
				UpdatedAt: aws.ToTime(a.StateUpdatedTimestamp),
			}
		}
	}
	return nil
}

func (g *AlarmGate) judge(states []AlarmState) error {
	var bad []AlarmState
	for _, a := range states {
		switch a.State {
		case cwtypes.StateValueAlarm:
			bad = append(bad, a)
		case cwtypes.StateValueInsufficientData:
			if g.opts.InsufficientData == InsufficientDataFail {
				bad = append(bad, a)
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &AlarmError{Gate: g.opts.Name, Alarms: bad}
}

// LambdaVersionDimensions returns the CloudWatch dimensions of the AWS/Lambda
// per-version metrics for one version invoked through an alias: FunctionName
// (function), Resource ("function:alias") and ExecutedVersion (version). Use
// them in PutMetricAlarm so an alarm watches only the new version during a
// traffic shift. It returns an error wrapping deploy.ErrInvalidRequest when
// any argument is empty or version is "$LATEST" (aliases cannot weight it).
func LambdaVersionDimensions(function, alias, version string) ([]cwtypes.Dimension, error) {
	switch {
	case function == "":
		return nil, deploy.Invalid("function", function, "must not be empty")
	case alias == "":
		return nil, deploy.Invalid("alias", alias, "must not be empty")
	case version == "":
		return nil, deploy.Invalid("version", version, "must not be empty")
	case version == "$LATEST":
		return nil, deploy.Invalid("version", version, "per-version metrics need a published version")
	}
	return []cwtypes.Dimension{
		{Name: aws.String("FunctionName"), Value: aws.String(function)},
		{Name: aws.String("Resource"), Value: aws.String(function + ":" + alias)},
		{Name: aws.String("ExecutedVersion"), Value: aws.String(version)},
	}, nil
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
