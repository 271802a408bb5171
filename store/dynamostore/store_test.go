package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/deploy"
	"github.com/switchyard/switchyard/deploy/deploytest"
	"github.com/switchyard/switchyard/internal/motoserver"
	"github.com/switchyard/switchyard/store/dynamostore"
)

var tables atomic.Int64

// newTable creates a fresh table on srv and returns a store on it.
func newTable(t testing.TB, srv *motoserver.Server) (*dynamostore.Store, *dynamodb.Client, string) {
	t.Helper()
	client := dynamodb.NewFromConfig(srv.Config())
	table := fmt.Sprintf("switchyard-%d", tables.Add(1))
	if err := dynamostore.CreateTable(context.Background(), client, table, dynamostore.CreateTableOptions{}); err != nil {
		t.Fatal(err)
	}
	return dynamostore.New(client, table, dynamostore.Options{}), client, table
}

func TestRunStoreMoto(t *testing.T) {
	srv := motoserver.Start(t)
	deploytest.RunStore(t, func(t *testing.T) *deploytest.StoreHarness {
		s, _, table := newTable(t, srv)
		return &deploytest.StoreHarness{
			Store: s,
			// Another machine's client on the same table.
			Other: func(t *testing.T) deploy.Store {
				return dynamostore.New(dynamodb.NewFromConfig(srv.Config()), table, dynamostore.Options{})
			},
		}
	})
}

func TestCreateTableIdempotent(t *testing.T) {
	srv := motoserver.Start(t)
	_, client, table := newTable(t, srv)
	if err := dynamostore.CreateTable(context.Background(), client, table, dynamostore.CreateTableOptions{}); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	out, err := client.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if d := out.TimeToLiveDescription; d == nil || d.AttributeName == nil || *d.AttributeName != "ttl" {
		t.Errorf("time to live = %+v; want on attribute ttl", d)
	}
	other := "other-schema"
	_, err = client.CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: &other,
		AttributeDefinitions: []typesAttr{{AttributeName: strp("id"), AttributeType: "S"}},
		KeySchema:            []typesKey{{AttributeName: strp("id"), KeyType: "HASH"}}, BillingMode: "PAY_PER_REQUEST"})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamostore.CreateTable(context.Background(), client, other, dynamostore.CreateTableOptions{}); !errors.Is(err, deploy.ErrInvalidRequest) {
		t.Errorf("CreateTable on a table with another key schema = %v; want ErrInvalidRequest", err)
	}
}

// TestJournalEntriesExpire: journal entries carry a ttl Retention after
// they were written, which DynamoDB's Time to Live deletes.
func TestJournalEntriesExpire(t *testing.T) {
	srv := motoserver.Start(t)
	_, client, table := newTable(t, srv)
	s := dynamostore.New(client, table, dynamostore.Options{Retention: 48 * time.Hour})
	at := deploytest.Epoch()
	ctx := context.Background()
	if err := s.Append(ctx, deploy.JournalEntry{Run: "r", Seq: 1, Kind: deploy.JournalPlan, At: at}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []map[string]types.AttributeValue{
		{"PK": &types.AttributeValueMemberS{Value: "run#r"}, "SK": &types.AttributeValueMemberS{Value: "seq#0000000001"}},
		{"PK": &types.AttributeValueMemberS{Value: "open"}, "SK": &types.AttributeValueMemberS{Value: "r"}},
	} {
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		ttl, ok := out.Item["ttl"].(*types.AttributeValueMemberN)
		if want := strconv.FormatInt(at.Add(48*time.Hour).Unix(), 10); !ok || ttl.Value != want {
			t.Errorf("item %v: ttl %v; want %s", key["PK"], out.Item["ttl"], want)
		}
	}
}
