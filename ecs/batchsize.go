package ecs

// StatusBatchSize tells the engine that one DescribeServices request
// reports ten services, so it sends its gathered status polls ten at a time
// and its rate control counts requests (deploy.BatchSizer). The CodeDeploy
// deployments of CODE_DEPLOY services in such a batch fit in one
// BatchGetDeployments request (25 IDs) too, so a batch of ten costs at most
// one request of each kind; a larger size would make a batch of rolling
// services cost several DescribeServices where the engine counts one.
func (d *Driver) StatusBatchSize() int { return 10 }
