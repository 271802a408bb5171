package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/deploy"
)

// TableAPI is the part of the DynamoDB client CreateTable uses;
// *dynamodb.Client satisfies it.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// CreateTableOptions configure CreateTable. The zero value means every
// default.
type CreateTableOptions struct {
	// Clock paces the wait for the table to become ACTIVE. Default
	// deploy.SystemClock{}.
	Clock deploy.Clock
	// PollInterval is how often the table's status is read while it is
	// being created. Default 2s.
	PollInterval time.Duration
}

// CreateTable creates table with the package's key schema (PK, SK, on-demand
// billing), waits on o.Clock until it is ACTIVE (or ctx ends), and turns on
// Time to Live on the "ttl" attribute. It is idempotent: an existing table
// with the key schema is accepted (and its TTL turned on), one with another
// key schema is refused with an error wrapping deploy.ErrInvalidRequest.
func CreateTable(ctx context.Context, api TableAPI, table string, o CreateTableOptions) error {
	if o.Clock == nil {
		o.Clock = deploy.SystemClock{}
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("SK"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("SK"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamostore: create table %s: %w", table, err)
	}
	for {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("dynamostore: describe table %s: %w", table, err)
		}
		if err := checkSchema(out.Table); err != nil {
			return fmt.Errorf("dynamostore: table %s: %w", table, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dynamostore: table %s is %s: %w", table, out.Table.TableStatus, ctx.Err())
		case <-o.Clock.After(o.PollInterval):
		}
	}
	_, err = api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("ttl"), Enabled: aws.Bool(true)}})
	if err != nil && !strings.Contains(err.Error(), "already enabled") {
		return fmt.Errorf("dynamostore: time to live on %s: %w", table, err)
	}
	return nil
}

func checkSchema(t *types.TableDescription) error {
	if t == nil {
		return errors.New("no description")
	}
	var hash, rng string
	for _, k := range t.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	if hash != "PK" || rng != "SK" {
		return deploy.Invalid("table", aws.ToString(t.TableName),
			fmt.Sprintf("key schema is %q/%q; a switchyard store needs partition key PK and sort key SK", hash, rng))
	}
	return nil
}
