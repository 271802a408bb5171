package motoserver

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

func TestStartServesECS(t *testing.T) {
	s := Start(t)
	c := ecs.NewFromConfig(s.Config())
	ctx := context.Background()
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("c1")}); err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	out, err := c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		t.Fatalf("ListClusters: %v", err)
	}
	if len(out.ClusterArns) != 1 {
		t.Fatalf("want 1 cluster, got %v", out.ClusterArns)
	}
	s.Reset(t)
	out, err = c.ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil {
		t.Fatalf("ListClusters after reset: %v", err)
	}
	if len(out.ClusterArns) != 0 {
		t.Fatalf("reset left clusters: %v", out.ClusterArns)
	}
}
