import 'cdktf/lib/testing/adapters/jest';
import { generateKeyPairSync } from 'node:crypto';
import { AclAuthMethod } from '@cdktf/provider-consul/lib/acl-auth-method';
import { Testing } from 'cdktf';
import { BeamMesh, JwtLoginProps, MeshLoginProps, ProxyKind } from '../../lib';
import { newStack, resources, synthJson } from '../util';

const PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const JWT: JwtLoginProps = { boundIssuer: 'https://issuer.test', boundAudiences: ['meshx'], jwtValidationPubKeys: [PEM] };

function loginMesh(login: MeshLoginProps = { jwt: JWT }, extra: Record<string, unknown> = {}) {
  const stack = newStack();
  const mesh = new BeamMesh(stack, 'Mesh', { name: 'm', proxy: ProxyKind.BUILTIN, login, ...extra });
  const a = mesh.addNode('A', { nodeName: 'a@h1.x' });
  const b = mesh.addNode('B', { nodeName: 'b@h2.x' });
  mesh.connect(a, b);
  return { stack, mesh, a, b };
}

function outputOf(json: any, prefix: string): any {
  const hit = Object.entries<any>(json.output ?? {}).find(([k]) => k.startsWith(prefix));
  if (!hit) throw new Error(`no output ${prefix}* in ${Object.keys(json.output ?? {})}`);
  return hit[1];
}

describe('BeamMesh login (JWT auth method)', () => {
  test('one jwt auth method: issuer, audiences, keys, and the claim mapped to meshx_service', () => {
    const { stack, mesh } = loginMesh();
    const synth = Testing.synth(stack);
    expect(synth).toHaveResourceWithProperties(AclAuthMethod, { name: 'm-meshx-node', type: 'jwt' });
    const [method] = resources(JSON.parse(synth), 'consul_acl_auth_method');
    expect(JSON.parse(method.config_json)).toEqual({
      BoundIssuer: 'https://issuer.test',
      BoundAudiences: ['meshx'],
      JWTValidationPubKeys: [PEM],
      ClaimMappings: { meshx_service: 'meshx_service' },
    });
    expect(method.max_token_ttl).toBeUndefined();
    expect(mesh.login!.methodName).toBe('m-meshx-node');
  });

  test('per node: a role with its service identity and its own manifest policy, bound only to a login naming that service', () => {
    const { stack, a, b } = loginMesh();
    const json = synthJson(stack);
    expect(resources(json, 'consul_acl_token')).toHaveLength(0); // login replaces the static tokens
    expect(a.token).toBeUndefined();
    expect(a.role).toBeDefined();
    const roles = resources(json, 'consul_acl_role');
    expect(roles.map((r) => r.name).sort()).toEqual(['m-a-meshx-node', 'm-b-meshx-node']);
    const roleA = roles.find((r) => r.name === 'm-a-meshx-node');
    expect(roleA.service_identities).toEqual([{ service_name: 'm-a' }]);
    expect(roleA.policies).toHaveLength(1);
    expect(roleA.policies[0]).toMatch(/^\$\{consul_acl_policy\.Mesh_A_Acl_Policy_[0-9A-F]+\.name\}$/);
    const policyA = resources(json, 'consul_acl_policy').find((p) => p.name === 'm-a-meshx-node');
    expect(policyA.rules).toBe('key "meshx/m/nodes/m-a" {\n  policy = "read"\n}\n');

    const rules = resources(json, 'consul_acl_binding_rule');
    expect(rules).toHaveLength(2);
    const ruleA = rules.find((r) => r.selector === 'value.meshx_service == "m-a"');
    expect(ruleA).toMatchObject({ bind_type: 'role' });
    expect(ruleA.bind_name).toMatch(/^\$\{consul_acl_role\.Mesh_A_Acl_Role_[0-9A-F]+\.name\}$/);
    expect(ruleA.auth_method).toMatch(/^\$\{consul_acl_auth_method\.Mesh_Login_AuthMethod_[0-9A-F]+\.name\}$/);
    const ruleB = rules.find((r) => r.selector === 'value.meshx_service == "m-b"');
    expect(ruleB.bind_name).toMatch(/Mesh_B_Acl_Role_/);
    expect(b.role).toBeDefined();
  });

  test('per group: one role with the group service identity and its group key, bound to a login naming that service', () => {
    const { stack, mesh, a } = loginMesh();
    const g = mesh.addReplicas('Api', { alive: 'api' });
    mesh.connect(a, g);
    const json = synthJson(stack);
    expect(resources(json, 'consul_acl_token')).toHaveLength(0);
    expect(g.token).toBeUndefined();
    expect(g.role).toBeDefined();
    const role = resources(json, 'consul_acl_role').find((r) => r.name === 'm-api-meshx-node');
    expect(role.service_identities).toEqual([{ service_name: 'm-api' }]);
    expect(role.policies[0]).toMatch(/^\$\{consul_acl_policy\.Mesh_Api_Acl_Policy_[0-9A-F]+\.name\}$/);
    const policy = resources(json, 'consul_acl_policy').find((p) => p.name === 'm-api-meshx-node');
    expect(policy.rules).toBe(`key "${g.kvKey}" {\n  policy = "read"\n}\n`);
    const rules = resources(json, 'consul_acl_binding_rule').filter((r) => r.selector === 'value.meshx_service == "m-api"');
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ bind_type: 'role' });
    expect(rules[0].bind_name).toMatch(/Mesh_Api_Acl_Role_/);
    expect(resources(json, 'consul_acl_binding_rule')).toHaveLength(3);
    expect(outputOf(json, 'Mesh_Nodes_').value['m-api']).toEqual({
      alive: 'api',
      kv_key: 'meshx/m/groups/m-api',
      auth_method: expect.stringMatching(/^\$\{consul_acl_auth_method\..*\.name\}$/),
      role: expect.stringMatching(/^\$\{consul_acl_role\.Mesh_Api_Acl_Role_.*\.name\}$/),
    });
  });

  test('claimName (a JSON pointer for Kubernetes), jwksUrl with CA, method name and token TTL', () => {
    const { stack } = loginMesh({
      methodName: 'k8s-prod',
      jwt: {
        boundIssuer: 'https://kubernetes.default.svc',
        boundAudiences: ['consul', 'meshx'],
        jwksUrl: 'https://k8s.example/openid/v1/jwks',
        jwksCaCert: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
        claimName: '/kubernetes.io/serviceaccount/name',
        jwtSupportedAlgorithms: ['RS256', 'ES256'],
        maxTokenTtl: '24h',
      },
    });
    const json = synthJson(stack);
    const [method] = resources(json, 'consul_acl_auth_method');
    expect(method.name).toBe('k8s-prod');
    expect(method.max_token_ttl).toBe('24h');
    const config = JSON.parse(method.config_json);
    expect(config).toMatchObject({ JWKSURL: 'https://k8s.example/openid/v1/jwks', ClaimMappings: { '/kubernetes.io/serviceaccount/name': 'meshx_service' } });
    expect(config.JWKSCACert).toContain('BEGIN CERTIFICATE');
    expect(config.JWTValidationPubKeys).toBeUndefined();
    expect(config.JWTSupportedAlgs).toEqual(['RS256', 'ES256']);
  });

  test('the Nodes output names, per service, the auth method and role (no accessor, no secret)', () => {
    const { stack } = loginMesh();
    const synth = Testing.synth(stack);
    const out = outputOf(JSON.parse(synth), 'Mesh_Nodes_');
    expect(out.value['m-a']).toEqual({
      node: 'a@h1.x',
      kv_key: 'meshx/m/nodes/m-a',
      auth_method: expect.stringMatching(/^\$\{consul_acl_auth_method\..*\.name\}$/),
      role: expect.stringMatching(/^\$\{consul_acl_role\.Mesh_A_Acl_Role_.*\.name\}$/),
    });
    expect(out.sensitive).toBeUndefined();
    expect(synth).not.toMatch(/secret/i);
    expect(synth).not.toMatch(/PRIVATE KEY/);
  });

  test('without login, the Nodes output gives each static token accessor', () => {
    const stack = newStack();
    const mesh = new BeamMesh(stack, 'Mesh', { name: 'm' });
    mesh.addNode('A', { nodeName: 'a@h1.x' });
    const json = synthJson(stack);
    expect(outputOf(json, 'Mesh_Nodes_').value).toEqual({
      'm-a': {
        node: 'a@h1.x',
        kv_key: 'meshx/m/nodes/m-a',
        token_accessor: expect.stringMatching(/^\$\{consul_acl_token\.Mesh_A_Acl_Token_[0-9A-F]+\.accessor_id\}$/),
      },
    });
    expect(resources(json, 'consul_acl_auth_method')).toHaveLength(0);
    expect(resources(json, 'consul_acl_binding_rule')).toHaveLength(0);
  });

  test.each<[string, Partial<JwtLoginProps> | undefined, Record<string, unknown>, string]>([
    ['no audience', { boundAudiences: [] }, {}, 'login.jwt.boundAudiences must list at least one audience'],
    ['empty issuer', { boundIssuer: ' ' }, {}, 'login.jwt.boundIssuer must be a non-empty string'],
    ['both key sources', { jwksUrl: 'https://x.test/jwks' }, {}, 'login.jwt needs exactly one of jwtValidationPubKeys and jwksUrl'],
    ['no key source', { jwtValidationPubKeys: undefined }, {}, 'login.jwt needs exactly one of jwtValidationPubKeys and jwksUrl'],
    [
      'a private key',
      { jwtValidationPubKeys: ['-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----'] },
      {},
      'login.jwt.jwtValidationPubKeys[0] must be a PEM public key',
    ],
    [
      'http jwks',
      { jwtValidationPubKeys: undefined, jwksUrl: 'http://x.test/jwks' },
      {},
      "login.jwt.jwksUrl 'http://x.test/jwks' must be an https:// URL",
    ],
    ['CA without jwks', { jwksCaCert: '-----BEGIN CERTIFICATE-----' }, {}, 'login.jwt.jwksCaCert is only used with jwksUrl'],
    ['bad claim', { claimName: 'a b' }, {}, "login.jwt.claimName 'a b' must be a claim name or a JSON pointer"],
    ['bad ttl', { maxTokenTtl: 'soon' }, {}, "login.jwt.maxTokenTtl 'soon' must be a duration"],
    ['unknown algorithm', { jwtSupportedAlgorithms: ['HS256'] }, {}, "login.jwt.jwtSupportedAlgorithms[0] 'HS256' is not one of RS256,"],
    ['no algorithm', { jwtSupportedAlgorithms: [] }, {}, 'login.jwt.jwtSupportedAlgorithms must list at least one algorithm'],
    ['acl off', undefined, { acl: false }, 'login needs acl'],
    ['bad method name', undefined, { methodName: 'a b' }, "login.methodName 'a b' must be 1 to 128 characters"],
  ])('bad login (%s) fails at synth naming the field and the mesh path', (_what, jwt, extra, message) => {
    const stack = newStack();
    const { methodName, ...meshExtra } = extra as { methodName?: string };
    const login: MeshLoginProps = { jwt: { ...JWT, ...(jwt ?? {}) }, methodName };
    expect(() => new BeamMesh(stack, 'Mesh', { name: 'm', login, ...meshExtra })).toThrow(`[test/Mesh] ${message}`);
  });
});
