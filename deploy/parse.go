package deploy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// CodeDeployPrefix starts the names of CodeDeploy's predefined deployment
// configurations.
const CodeDeployPrefix = "CodeDeployDefault."

// codeDeployConfig builds the strategy of one predefined CodeDeploy config.
func codeDeployConfig(name string) (Strategy, bool) {
	var s Strategy
	switch name {
	// Lambda.
	case "LambdaAllAtOnce", "ECSAllAtOnce":
		s = AllAtOnce()
	case "LambdaCanary10Percent5Minutes", "ECSCanary10Percent5Minutes":
		s = Canary(10, 5*time.Minute)
	case "LambdaCanary10Percent10Minutes":
		s = Canary(10, 10*time.Minute)
	case "LambdaCanary10Percent15Minutes", "ECSCanary10Percent15Minutes":
		s = Canary(10, 15*time.Minute)
	case "LambdaCanary10Percent30Minutes":
		s = Canary(10, 30*time.Minute)
	case "LambdaLinear10PercentEvery1Minute", "ECSLinear10PercentEvery1Minutes":
		s = Linear(10, time.Minute)
	case "LambdaLinear10PercentEvery2Minutes":
		s = Linear(10, 2*time.Minute)
	case "LambdaLinear10PercentEvery3Minutes", "ECSLinear10PercentEvery3Minutes":
		s = Linear(10, 3*time.Minute)
	case "LambdaLinear10PercentEvery10Minutes":
		s = Linear(10, 10*time.Minute)
	// EC2/on-premises in-place.
	case "AllAtOnce":
		s = AllAtOnce().WithMinHealthy(MinHealthyHosts{Type: HostCount, Value: 0})
	case "HalfAtATime":
		s = AllAtOnce().WithMinHealthy(MinHealthyHosts{Type: FleetPercent, Value: 50})
	case "OneAtATime":
		s = AllAtOnce().WithMinHealthy(MinHealthyHosts{Type: MostConcurrency, Value: 1})
	default:
		return Strategy{}, false
	}
	s.Name = CodeDeployPrefix + name
	return s, true
}

// CodeDeployConfigNames lists every predefined CodeDeploy deployment
// configuration ParseStrategy knows.
func CodeDeployConfigNames() []string {
	names := []string{
		"LambdaAllAtOnce", "LambdaCanary10Percent5Minutes", "LambdaCanary10Percent10Minutes",
		"LambdaCanary10Percent15Minutes", "LambdaCanary10Percent30Minutes",
		"LambdaLinear10PercentEvery1Minute", "LambdaLinear10PercentEvery2Minutes",
		"LambdaLinear10PercentEvery3Minutes", "LambdaLinear10PercentEvery10Minutes",
		"ECSAllAtOnce", "ECSCanary10Percent5Minutes", "ECSCanary10Percent15Minutes",
		"ECSLinear10PercentEvery1Minutes", "ECSLinear10PercentEvery3Minutes",
		"AllAtOnce", "HalfAtATime", "OneAtATime",
	}
	for i, n := range names {
		names[i] = CodeDeployPrefix + n
	}
	return names
}

// CodeDeployConfigName returns the predefined CodeDeploy configuration for
// the compute platform ("Lambda", "ECS" or "Server") whose steps equal s, if
// there is one.
func (s Strategy) CodeDeployConfigName(computePlatform string) (string, bool) {
	for _, n := range CodeDeployConfigNames() {
		short := strings.TrimPrefix(n, CodeDeployPrefix)
		switch computePlatform {
		case "Lambda", "ECS":
			if !strings.HasPrefix(short, computePlatform) {
				continue
			}
		case "Server":
			if strings.HasPrefix(short, "Lambda") || strings.HasPrefix(short, "ECS") {
				continue
			}
		default:
			return "", false
		}
		c, _ := codeDeployConfig(short)
		if equalSteps(c.Normalized(), s.Normalized()) && equalMinHealthy(c.MinHealthy, s.MinHealthy) {
			return n, true
		}
	}
	return "", false
}

func equalMinHealthy(a, b *MinHealthyHosts) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ParseStrategy reads a strategy from one of:
//
//   - a predefined CodeDeploy configuration name, such as
//     "CodeDeployDefault.LambdaCanary10Percent5Minutes",
//     "CodeDeployDefault.ECSLinear10PercentEvery1Minutes" or
//     "CodeDeployDefault.HalfAtATime" (see CodeDeployConfigNames);
//   - "all-at-once";
//   - "canary:P:D": shift P percent, bake D, shift the rest;
//   - "linear:P:D": shift P percent every D until 100;
//   - "steps:T,T,...": explicit steps where each token T is a percentage
//     ("10"), a bake duration ("5m") or "approve"; the steps must end at 100;
//
// optionally followed by ";min-healthy=HOST_COUNT:N" or
// ";min-healthy=FLEET_PERCENT:N". Durations use time.ParseDuration syntax.
// An empty string is AllAtOnce. Errors are *ValidationError wrapping
// ErrInvalidRequest, and the result is validated.
func ParseStrategy(text string) (Strategy, error) {
	in := strings.TrimSpace(text)
	if in == "" {
		return AllAtOnce(), nil
	}
	main, rest, hasMin := strings.Cut(in, ";")
	var s Strategy
	switch {
	case strings.HasPrefix(main, CodeDeployPrefix):
		c, ok := codeDeployConfig(strings.TrimPrefix(main, CodeDeployPrefix))
		if !ok {
			return Strategy{}, Invalid("strategy", main, "unknown CodeDeploy deployment configuration")
		}
		s = c
	case strings.EqualFold(main, "all-at-once") || strings.EqualFold(main, "allatonce"):
		s = AllAtOnce()
	case strings.HasPrefix(main, "canary:") || strings.HasPrefix(main, "linear:"):
		kind, args, _ := strings.Cut(main, ":")
		ps, ds, ok := strings.Cut(args, ":")
		if !ok {
			return Strategy{}, Invalid("strategy", main, "want "+kind+":PERCENT:DURATION")
		}
		p, err := parsePercent(ps)
		if err != nil {
			return Strategy{}, Invalid("strategy", main, err.Error())
		}
		d, err := parseDuration(ds)
		if err != nil {
			return Strategy{}, Invalid("strategy", main, err.Error())
		}
		if kind == "canary" {
			s = Canary(p, d)
		} else {
			s = Linear(p, d)
		}
	case strings.HasPrefix(main, "steps:"):
		toks := strings.Split(strings.TrimPrefix(main, "steps:"), ",")
		steps := make([]Step, 0, len(toks))
		for _, tok := range toks {
			tok = strings.TrimSpace(tok)
			switch {
			case tok == "approve":
				steps = append(steps, Approval())
			case tok != "" && strings.IndexFunc(tok, isUnit) >= 0:
				d, err := parseDuration(tok)
				if err != nil {
					return Strategy{}, Invalid("strategy", main, err.Error())
				}
				steps = append(steps, BakeFor(d))
			default:
				p, err := parsePercent(tok)
				if err != nil {
					return Strategy{}, Invalid("strategy", main, err.Error())
				}
				steps = append(steps, ShiftTo(p))
			}
		}
		s = Custom(steps...)
	default:
		return Strategy{}, Invalid("strategy", main,
			"want all-at-once, canary:P:D, linear:P:D, steps:... or a CodeDeployDefault name")
	}
	if hasMin {
		key, val, ok := strings.Cut(rest, "=")
		if !ok || strings.TrimSpace(key) != "min-healthy" {
			return Strategy{}, Invalid("strategy", rest, "want ;min-healthy=TYPE:VALUE")
		}
		m, err := ParseMinHealthyHosts(val)
		if err != nil {
			return Strategy{}, err
		}
		s.MinHealthy = &m
	}
	if err := s.Validate(); err != nil {
		return Strategy{}, err
	}
	return s, nil
}

func isUnit(r rune) bool {
	return r == 'h' || r == 'm' || r == 's' || r == 'u' || r == 'n' || r == 'µ'
}

func parsePercent(s string) (float64, error) {
	p, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
		return 0, fmt.Errorf("percentage %q is not a number", s)
	}
	if p < 1 || p > 100 {
		return 0, fmt.Errorf("percentage %s must be between 1 and 100", formatPercent(p))
	}
	return p, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("duration %q: %v", s, err)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %s must not be negative", d)
	}
	return d, nil
}
