// Package dynamostore is a deploy.Store in one DynamoDB table, for teams
// and CI fleets whose deployments run on many machines (as Terraform teams
// share state and locks in S3 and DynamoDB).
//
// # Key schema
//
// The table has a string partition key PK and a string sort key SK, and
// a Number attribute "ttl" (epoch seconds) for DynamoDB's Time to Live.
// CreateTable makes such a table (on-demand billing, TTL on "ttl").
//
//	PK               SK             item
//	lock#T           lock           the lease on target T: token, owner, host, pid, run, since, expires
//	run#R            seq#0000000001 journal entry 1 of run R (entry: JSON), ttl
//	open             R              present while run R is unfinished (target), ttl
//	hist#T           dep#D          target T's history entry for deployment D (entry: JSON)
//	hist#T           at#N           a history entry with no deployment, N its time in nanoseconds
//
// Locks are conditional writes: a lock is put only when absent, held by
// the same token, or expired (its "expires" is not after the new lease's
// since); renewals and releases are conditional on the token. A journal
// entry is put only when its sequence number is not taken, so two writers
// cannot interleave a journal. Journal entries (and the marker of an
// unfinished run) carry a "ttl" Options.Retention after they were written,
// so DynamoDB deletes old journals by itself. Locks and history have no
// ttl: a lock is released or taken over, history is what rollbacks read.
//
// A lock is taken over only after its lease expired: a DynamoDB store
// cannot tell whether a holder on another machine still runs. Lease times
// come from the engines' clocks on different machines, so keep those
// clocks synchronized (NTP) and the lease long against their skew (the
// default minute is).
package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchyard/switchyard/deploy"
)

// API is the part of the DynamoDB client the store uses; *dynamodb.Client
// satisfies it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Options configure a Store. The zero value means every default.
type Options struct {
	// Retention is how long journal entries are kept (DynamoDB's TTL
	// deletes them afterwards). Default 90 days.
	Retention time.Duration
}

// Store is a deploy.Store in a DynamoDB table. It is safe for concurrent
// use; any number of stores on any number of machines may share a table.
type Store struct {
	api   API
	table string
	opts  Options
}

var _ deploy.Store = (*Store)(nil)

// New returns a store in table, which must exist with the key schema the
// package doc describes (see CreateTable).
func New(api API, table string, opts Options) *Store {
	if opts.Retention <= 0 {
		opts.Retention = 90 * 24 * time.Hour
	}
	return &Store{api: api, table: table, opts: opts}
}

// Table returns the store's table name.
func (s *Store) Table() string { return s.table }

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(item map[string]types.AttributeValue, k string) string {
	if v, ok := item[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(item map[string]types.AttributeValue, k string) int64 {
	if v, ok := item[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func lockKey(target string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str("lock#" + target), "SK": str("lock")}
}

func leaseItem(l deploy.Lease) map[string]types.AttributeValue {
	item := lockKey(l.Target)
	item["target"] = str(l.Target)
	item["token"] = str(l.Token)
	item["owner"] = str(l.Owner)
	item["host"] = str(l.Host)
	item["pid"] = num(int64(l.PID))
	item["run"] = str(l.Run)
	item["since"] = num(l.Since.UnixNano())
	item["expires"] = num(l.Expires.UnixNano())
	return item
}

func leaseOf(item map[string]types.AttributeValue) deploy.Lease {
	return deploy.Lease{Target: getS(item, "target"), Token: getS(item, "token"), Owner: getS(item, "owner"),
		Host: getS(item, "host"), PID: int(getN(item, "pid")), Run: getS(item, "run"),
		Since: time.Unix(0, getN(item, "since")).UTC(), Expires: time.Unix(0, getN(item, "expires")).UTC()}
}

func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("dynamostore %s %s: %w", op, s.table, err)
}

// Lock takes l.Target's lock as deploy.Store says, with a conditional
// put: absent, or expired by l.Since. Held by l.Token, it is extended.
func (s *Store) Lock(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if err := ctx.Err(); err != nil {
		return deploy.Lease{}, err
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      leaseItem(l),
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR expires <= :since"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":since": num(l.Since.UnixNano())},
	})
	if err == nil {
		return l, nil
	}
	if !conditionFailed(err) {
		return deploy.Lease{}, s.wrap("lock", err)
	}
	// Held and not expired: by this token (extend) or by someone else.
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       lockKey(l.Target),
		UpdateExpression:          aws.String("SET expires = :exp"),
		ConditionExpression:       aws.String("#tok = :tok"),
		ExpressionAttributeNames:  map[string]string{"#tok": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":exp": num(l.Expires.UnixNano()), ":tok": str(l.Token)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err == nil {
		return leaseOf(out.Attributes), nil
	}
	if !conditionFailed(err) {
		return deploy.Lease{}, s.wrap("lock", err)
	}
	cur, err := s.Holder(ctx, l.Target)
	if err != nil {
		return deploy.Lease{}, err
	}
	if cur == nil {
		// Released between the two writes: let the caller try again.
		return deploy.Lease{}, fmt.Errorf("%w: %s changed hands while locking; try again", deploy.ErrConflict, l.Target)
	}
	return deploy.Lease{}, &deploy.LockedError{Holder: *cur}
}

// Renew extends a lease held with l.Token (a write conditional on it).
func (s *Store) Renew(ctx context.Context, l deploy.Lease) (deploy.Lease, error) {
	if err := ctx.Err(); err != nil {
		return deploy.Lease{}, err
	}
	out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       lockKey(l.Target),
		UpdateExpression:          aws.String("SET expires = :exp"),
		ConditionExpression:       aws.String("#tok = :tok"),
		ExpressionAttributeNames:  map[string]string{"#tok": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":exp": num(l.Expires.UnixNano()), ":tok": str(l.Token)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if conditionFailed(err) {
		return deploy.Lease{}, fmt.Errorf("%w: %s", deploy.ErrLockLost, l.Target)
	}
	if err != nil {
		return deploy.Lease{}, s.wrap("renew", err)
	}
	return leaseOf(out.Attributes), nil
}

// Unlock releases a lock held with l.Token (a delete conditional on it).
func (s *Store) Unlock(ctx context.Context, l deploy.Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       lockKey(l.Target),
		ConditionExpression:       aws.String("#tok = :tok"),
		ExpressionAttributeNames:  map[string]string{"#tok": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":tok": str(l.Token)},
	})
	if conditionFailed(err) {
		return nil
	}
	return s.wrap("unlock", err)
}

// Holder returns the lease on target (a strongly consistent read), or nil.
func (s *Store) Holder(ctx context.Context, target string) (*deploy.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: lockKey(target), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, s.wrap("holder", err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	l := leaseOf(out.Item)
	return &l, nil
}

func openKey(run string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str("open"), "SK": str(run)}
}

// Append puts e unless its sequence number is taken (ErrConflict).
func (s *Store) Append(ctx context.Context, e deploy.JournalEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.Run == "" || e.Seq < 1 {
		return fmt.Errorf("dynamostore: %w: journal entry needs a run and a sequence number from 1", deploy.ErrInvalidRequest)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return s.wrap("append", err)
	}
	if e.Seq == 1 {
		item := openKey(e.Run)
		item["target"] = str(e.Target.String())
		// Expires with the journal it points at.
		item["ttl"] = num(e.At.Add(s.opts.Retention).Unix())
		if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
			return s.wrap("append", err)
		}
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{"PK": str("run#" + e.Run), "SK": str(fmt.Sprintf("seq#%010d", e.Seq)),
			"entry": str(string(b)), "ttl": num(e.At.Add(s.opts.Retention).Unix())},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if conditionFailed(err) {
		return fmt.Errorf("%w: journal %s entry %d is taken", deploy.ErrConflict, e.Run, e.Seq)
	}
	if err != nil {
		return s.wrap("append", err)
	}
	if e.Kind == deploy.JournalEnd {
		if _, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: openKey(e.Run)}); err != nil {
			return s.wrap("append", err)
		}
	}
	return nil
}

// query returns every item of partition pk, in sort key order.
func (s *Store) query(ctx context.Context, pk string) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Journal returns run's entries in order.
func (s *Store) Journal(ctx context.Context, run string) ([]deploy.JournalEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	items, err := s.query(ctx, "run#"+run)
	if err != nil {
		return nil, s.wrap("journal", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("dynamostore: %w: journal %s", deploy.ErrNotFound, run)
	}
	out := make([]deploy.JournalEntry, 0, len(items))
	for _, it := range items {
		var e deploy.JournalEntry
		if err := json.Unmarshal([]byte(getS(it, "entry")), &e); err != nil {
			return nil, s.wrap("journal", err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Unfinished returns the runs with no JournalEnd entry.
func (s *Store) Unfinished(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	items, err := s.query(ctx, "open")
	if err != nil {
		return nil, s.wrap("unfinished", err)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, getS(it, "SK"))
	}
	return out, nil
}

// Record puts h in target's history.
func (s *Store) Record(ctx context.Context, target string, h deploy.HistoryEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(h)
	if err != nil {
		return s.wrap("record", err)
	}
	sk := "dep#" + h.DeploymentID
	if h.DeploymentID == "" {
		sk = "at#" + strconv.FormatInt(h.At.UnixNano(), 10)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{"PK": str("hist#" + target), "SK": str(sk), "entry": str(string(b))}})
	return s.wrap("record", err)
}

// History returns target's revisions, newest first.
func (s *Store) History(ctx context.Context, target string) ([]deploy.HistoryEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	items, err := s.query(ctx, "hist#"+target)
	if err != nil {
		return nil, s.wrap("history", err)
	}
	out := make([]deploy.HistoryEntry, 0, len(items))
	for _, it := range items {
		var h deploy.HistoryEntry
		if err := json.Unmarshal([]byte(getS(it, "entry")), &h); err != nil {
			return nil, s.wrap("history", err)
		}
		out = append(out, h)
	}
	return deploy.SortHistory(out), nil
}
