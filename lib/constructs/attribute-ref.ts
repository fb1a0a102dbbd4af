import { TerraformResource } from 'cdktf';
import { SynthValue } from './synth-value';

/**
 * What `resource.<attribute>` resolves to in its own stack, as text. meshx-node refers only to
 * resources in the stack of the referring resource, so cdktf's reference (whose only extra is
 * cross-stack wiring) is not needed.
 */
export function attributeRef(resource: TerraformResource, attribute: string): string {
  return `\${${resource.terraformResourceType}.${resource.friendlyUniqueId}.${attribute}}`;
}

/**
 * `resource.<attribute>` as a string token resolved at synth, for a resource in the same stack:
 * the same text as cdktf's `resource.name` gives, without the complete stack trace cdktf captures
 * for each reference it makes (a few per node; with the logical ID it computes, most of the cost of
 * creating a node's ACL).
 */
export function sameStackRef(resource: TerraformResource, attribute: string): string {
  return SynthValue.string(() => attributeRef(resource, attribute));
}
