import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * How cdk-nag spells the ARN of a resource of this stack inside a finding id, e.g.
 * `<Tablesdecisions9E49B7AE.Arn>`; acknowledgements of wildcard findings name that exact resource,
 * so they cannot silently cover a different one.
 */
export function nagArn(resource: IConstruct): string {
  const cfn = (resource.node.defaultChild ?? resource) as CfnElement;
  const stack = Stack.of(cfn);
  return `<${stack.resolve(stack.getLogicalId(cfn)) as string}.Arn>`;
}

/** Acknowledges one `AwsSolutions-IAM5` wildcard-resource finding on `scope`, with the reason. */
export function acknowledgeWildcardResource(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
}
