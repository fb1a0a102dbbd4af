/**
 * Who creates a mesh's prepared-query template, the one Consul query through which every node
 * reaches one replica of a group (`meshx~<mesh>~`).
 * @experimental added with replica groups
 */
export enum ReplicaQueryTemplate {
  /**
   * A `consul_prepared_query` resource in the stack, made with the first group. Needs Consul 1.9
   * or later (1.8 refuses the provider's request) and a Terraform token with
   * `query "meshx~<mesh>~" { policy = "write" }`.
   */
  TERRAFORM = 'terraform',
  /**
   * None in the stack: an operator runs `meshx-node mesh init --mesh <name>` once, with a token
   * that has `query "meshx~<mesh>~" write`. What Consul 1.8 needs.
   */
  OPERATOR = 'operator',
}
