package ecs

// StatusBatchSize tells the engine that one DescribeServices request
// reports ten services, so it sends its gathered status polls ten at a time
// and its rate control counts requests (deploy.BatchSizer).
func (d *Driver) StatusBatchSize() int { return 10 }
