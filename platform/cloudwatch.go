package platform

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// NewCloudWatchClient returns the CloudWatch client the alarm gates use,
// made from cfg. CloudWatch clients speak the rpc-v2-cbor protocol by
// default, which AWS's endpoints accept but emulators and stand-in
// endpoints often do not (moto answers 404 with a body the client cannot
// decode). The client sends each call in the default protocol until an
// answer shows the endpoint does not speak it (a 404 or 415, an unknown
// operation, or a body that does not decode), then sends that call again,
// and every later one, in the next protocol CloudWatch accepts: awsJson
// 1.0, then awsQuery, the one it has always accepted. Against AWS it
// behaves as cloudwatch.NewFromConfig(cfg).
func NewCloudWatchClient(cfg aws.Config, optFns ...func(*cloudwatch.Options)) CloudWatchAPI {
	with := func(p func(*cloudwatch.Options)) []func(*cloudwatch.Options) {
		return append(append([]func(*cloudwatch.Options){}, optFns...), p)
	}
	return &cloudWatch{clients: []*cloudwatch.Client{
		cloudwatch.NewFromConfig(cfg, optFns...),
		cloudwatch.NewFromConfig(cfg, with(func(o *cloudwatch.Options) {
			o.Protocol = awsjson.New10(schemas.GraniteServiceVersion20100801)
		})...),
		cloudwatch.NewFromConfig(cfg, with(func(o *cloudwatch.Options) {
			o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
		})...),
	}}
}

type cloudWatch struct {
	clients []*cloudwatch.Client // one per protocol, in the order tried
	use     atomic.Int32         // the first that the endpoint did not refuse
}

// DescribeAlarms calls CloudWatch's DescribeAlarms.
func (c *cloudWatch) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	for {
		i := c.use.Load()
		out, err := c.clients[i].DescribeAlarms(ctx, in, optFns...)
		if err == nil || !protocolRefused(err) || int(i) == len(c.clients)-1 {
			return out, err
		}
		c.use.CompareAndSwap(i, i+1)
	}
}

// protocolRefused reports whether err says the endpoint does not speak the
// protocol the call was sent in, rather than answering the call.
func protocolRefused(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		switch re.Response.StatusCode {
		case http.StatusNotFound, http.StatusUnsupportedMediaType:
			return true
		}
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "UnknownOperationException", "UnknownOperation", "InvalidAction", "UnsupportedProtocol":
			return true
		}
	}
	return false
}
