package dynamostore_test

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

type (
	typesAttr = types.AttributeDefinition
	typesKey  = types.KeySchemaElement
)

func strp(s string) *string { return &s }
