package motoserver

import (
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// CloudWatchOptions makes a cloudwatch.Client speak a protocol moto_server
// understands. Recent CloudWatch clients default to the rpc-v2-cbor
// protocol, which moto answers with a 404 the client cannot decode
// ("decode argument: unexpected minor value"). This option switches the
// client to awsQuery, the protocol CloudWatch has always accepted (awsJson
// 1.0 works with moto too). Use it as
//
//	cw := cloudwatch.NewFromConfig(s.Config(), motoserver.CloudWatchOptions)
//
// Production code must not use it: real CloudWatch endpoints accept every
// protocol, and the default is the efficient one.
func CloudWatchOptions(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
}

// CloudWatch returns a CloudWatch client for the server, with
// CloudWatchOptions applied.
func (s *Server) CloudWatch() *cloudwatch.Client {
	return cloudwatch.NewFromConfig(s.Config(), CloudWatchOptions)
}
