package ecspresso_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchyard/switchyard/ecs/ecspresso"
)

// An ecspresso configuration and its templated task definition become the
// ecs driver's options, with no AWS call (the tfstate plugin here reads a
// local state).
func ExampleLoadDeployOptions() {
	dir, _ := os.MkdirTemp("", "ecspresso")
	defer os.RemoveAll(dir)
	write := func(name, body string) { _ = os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644) }
	write("ecspresso.yml", "region: us-east-1\ncluster: prod\nservice: web\ntask_definition: td.json\n"+
		"plugins:\n  - name: tfstate\n    config:\n      path: terraform.tfstate\n")
	write("terraform.tfstate", `{"version":4,"resources":[{"mode":"managed","type":"aws_iam_role","name":"exec",`+
		`"instances":[{"attributes":{"arn":"arn:aws:iam::123456789012:role/exec"}}]}]}`)
	write("td.json", `{"family":"web","executionRoleArn":"{{ tfstate "aws_iam_role.exec.arn" }}",`+
		`"containerDefinitions":[{"name":"app","image":"nginx:{{ must_env "TAG" }}"}]}`)
	env := func(k string) (string, bool) { return map[string]string{"TAG": "1.27"}[k], k == "TAG" }

	opts, conf, err := ecspresso.LoadDeployOptions(context.Background(), filepath.Join(dir, "ecspresso.yml"), ecspresso.Options{LookupEnv: env})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(conf.Target(), conf.Region)
	fmt.Print(string(opts.TaskDefinition))
	// Output:
	// ecs:prod/web us-east-1
	// {
	//   "family": "web",
	//   "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
	//   "containerDefinitions": [
	//     {
	//       "name": "app",
	//       "image": "nginx:1.27"
	//     }
	//   ]
	// }
}
