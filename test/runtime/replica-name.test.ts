import { GroupManifest } from '../../lib/manifest/types';
import { validateGroupManifest } from '../../lib/manifest/validate';
import { InputError } from '../../lib/runtime/errors';
import { commandNodeName, replicaNodeName } from '../../lib/runtime/replica-name';
import { validGroupManifest } from '../fixtures/manifests';

describe('commandNodeName', () => {
  test.each([
    ['-name', 'long'],
    ['--name', 'long'],
    ['-sname', 'short'],
    ['--sname', 'short'],
  ])('%s in the command: mode %s, the value after it, where it was found', (flag, mode) => {
    const value = `api@${flag.length}-host`;
    expect(commandNodeName(['erl', '-setcookie', 'c', flag, value, '-noshell'], {})).toEqual({ mode, value, where: `the command's ${flag}` });
  });

  test('the first flag of the command wins; a flag with nothing after it is not a name', () => {
    expect(commandNodeName(['erl', '-sname', 'a', '-name', 'b@h.x'], {})).toMatchObject({ mode: 'short', value: 'a' });
    expect(commandNodeName(['erl', '-noshell', '-name'], {})).toBeUndefined();
    // Look-alikes are not the flag.
    expect(commandNodeName(['erl', '-nodename', 'x', '-snames', 'y', 'name', 'z'], {})).toBeUndefined();
  });

  test.each(['ERL_AFLAGS', 'ERL_FLAGS', 'ERL_ZFLAGS', 'ELIXIR_ERL_OPTIONS'])('-name / -sname in $%s', (v) => {
    expect(commandNodeName(['erl'], { [v]: '+K true -sname api -setcookie c' })).toEqual({ mode: 'short', value: 'api', where: `$${v}'s -sname` });
    expect(commandNodeName(['erl'], { [v]: '-name api@api-1.shop.test' })).toEqual({
      mode: 'long',
      value: 'api@api-1.shop.test',
      where: `$${v}'s -name`,
    });
    expect(commandNodeName(['erl'], { [v]: '--sname  api' })).toMatchObject({ mode: 'short', value: 'api' });
    // A flag glued to another word is not one.
    expect(commandNodeName(['erl'], { [v]: '-env-name x +sname y' })).toBeUndefined();
  });

  test('the command comes before the flag variables, ERL_AFLAGS before the others', () => {
    const env = { ERL_AFLAGS: '-sname from-aflags', ERL_FLAGS: '-name from-flags@h.x', ELIXIR_ERL_OPTIONS: '-name from-elixir@h.x' };
    expect(commandNodeName(['erl', '-name', 'from-argv@h.x'], env)).toMatchObject({ value: 'from-argv@h.x', where: "the command's -name" });
    expect(commandNodeName(['erl'], env)).toMatchObject({ value: 'from-aflags', where: "$ERL_AFLAGS's -sname" });
    expect(commandNodeName(['erl'], { ...env, ERL_AFLAGS: '+K true' })).toMatchObject({ value: 'from-flags@h.x', where: "$ERL_FLAGS's -name" });
  });

  test('a mix release: RELEASE_DISTRIBUTION gives the mode, RELEASE_NODE the name if set', () => {
    expect(commandNodeName(['bin/shop', 'start'], { RELEASE_DISTRIBUTION: 'name', RELEASE_NODE: 'api@api-1.shop.test' })).toEqual({
      mode: 'long',
      value: 'api@api-1.shop.test',
      where: '$RELEASE_NODE',
    });
    expect(commandNodeName(['bin/shop', 'start'], { RELEASE_DISTRIBUTION: 'sname', RELEASE_NODE: 'api' })).toEqual({
      mode: 'short',
      value: 'api',
      where: '$RELEASE_NODE',
    });
    expect(commandNodeName(['bin/shop', 'start'], { RELEASE_DISTRIBUTION: 'sname', RELEASE_NODE: '' })).toEqual({
      mode: 'short',
      value: undefined,
      where: '$RELEASE_NODE',
    });
    expect(commandNodeName(['bin/shop', 'start'], { RELEASE_DISTRIBUTION: 'sname' })?.value).toBeUndefined();
    // No distribution, or none named: the command does not say.
    expect(commandNodeName(['bin/shop', 'start'], { RELEASE_DISTRIBUTION: 'none', RELEASE_NODE: 'api' })).toBeUndefined();
    expect(commandNodeName(['bin/shop', 'start'], { RELEASE_NODE: 'api@h.x' })).toBeUndefined();
    // The flag variables come before the release's.
    expect(commandNodeName(['bin/shop'], { ERL_AFLAGS: '-name a@h.x', RELEASE_DISTRIBUTION: 'sname', RELEASE_NODE: 'b' })?.value).toBe('a@h.x');
  });

  test('nothing names the node: undefined', () => {
    expect(commandNodeName([], {})).toBeUndefined();
    expect(commandNodeName(['erl', '-noshell', '-s', 'init', 'stop'], { ERL_AFLAGS: '+K true', PATH: '/bin' })).toBeUndefined();
  });
});

describe('replicaNodeName', () => {
  const group: GroupManifest = validateGroupManifest(validGroupManifest());
  const name = (o: { nodeName?: string; command?: string[]; env?: NodeJS.ProcessEnv; hostname?: string }) =>
    replicaNodeName(group, { command: ['erl'], env: {}, hostname: 'api-1.shop.test', ...o });
  const refusal = (o: Parameters<typeof name>[0]): InputError => {
    try {
      name(o);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return e as InputError;
    }
    throw new Error('no error thrown');
  };

  test("by default: the group's alive name at this host's whole name (long), its first label with -sname", () => {
    expect(name({})).toBe('api@api-1.shop.test');
    expect(name({ hostname: 'box' })).toBe('api@box');
    expect(name({ command: ['erl', '-sname', 'api'] })).toBe('api@api-1');
    expect(name({ env: { ERL_AFLAGS: '-sname api' } })).toBe('api@api-1');
    expect(name({ env: { RELEASE_DISTRIBUTION: 'sname' } })).toBe('api@api-1');
    expect(name({ env: { RELEASE_DISTRIBUTION: 'name' } })).toBe('api@api-1.shop.test');
  });

  test('--node-name, or the full name the command gives, is taken as it is', () => {
    expect(name({ nodeName: 'api@api-9.shop.test' })).toBe('api@api-9.shop.test');
    expect(name({ nodeName: 'api@api-9.shop.test', command: ['erl', '-name', 'api@api-9.shop.test'] })).toBe('api@api-9.shop.test');
    expect(name({ command: ['erl', '-name', 'api@other.shop.test'] })).toBe('api@other.shop.test');
    expect(name({ command: ['erl', '-sname', 'api@other'] })).toBe('api@other');
    expect(name({ env: { RELEASE_DISTRIBUTION: 'name', RELEASE_NODE: 'api@rel.shop.test' } })).toBe('api@rel.shop.test');
  });

  test("a name whose alive part is not the group's: names the source, the name, the group and its alive", () => {
    expect(refusal({ nodeName: 'web@api-1.shop.test' }).message).toBe(
      "--node-name: 'web@api-1.shop.test' is not a replica of group 'shop-api' (its node names are api@HOST)",
    );
    expect(refusal({ command: ['erl', '-name', 'web@api-1.shop.test'] }).message).toBe(
      "the command's -name: 'web@api-1.shop.test' is not a replica of group 'shop-api' (its node names are api@HOST)",
    );
  });

  test("the alive part alone where the BEAM would complete the host otherwise (long names; -sname on another host): refused", () => {
    const fix = 'give the full name, e.g. -name "$MESHX_NODE_NAME"';
    expect(refusal({ command: ['erl', '-name', 'api'] }).message).toBe(
      `the command's -name gives only 'api': the BEAM would complete the host itself, not as 'api@api-1.shop.test'; ${fix} (api@api-1.shop.test)`,
    );
    expect(refusal({ nodeName: 'api@api-9.shop.test', command: ['erl', '-name', 'api'] }).message).toMatch(/gives only 'api'/);
    expect(refusal({ nodeName: 'api@api-9', command: ['erl', '-sname', 'api'] }).message).toMatch(/gives only 'api'.*not as 'api@api-9'/);
  });

  test('a command that names another node than the replica is: names both and where each came from', () => {
    expect(refusal({ nodeName: 'api@a.shop.test', command: ['erl', '-name', 'api@b.shop.test'] }).message).toBe(
      "the command's -name names the node 'api@b.shop.test', but this node is 'api@a.shop.test'; "
        + 'give the full name, e.g. -name "$MESHX_NODE_NAME" (api@a.shop.test)',
    );
    expect(refusal({ command: ['erl', '--name', 'web'] }).message).toMatch(
      /^the command's --name names the node 'web', but this node is 'api@api-1\.shop\.test'/,
    );
    expect(refusal({ nodeName: 'api@a.shop.test', env: { ERL_FLAGS: '-name web' } }).message).toMatch(
      /^\$ERL_FLAGS's -name names the node 'web', but this node is 'api@a\.shop\.test'/,
    );
  });

  test('a short name with a dotted host: refused, suggesting the short one', () => {
    expect(refusal({ nodeName: 'api@api-9.shop.test', command: ['erl', '-sname', 'api'] }).message).toBe(
      "the command's -sname asks for a short name, but 'api@api-9.shop.test' has a dotted host; give --node-name api@api-9",
    );
    expect(refusal({ env: { ERL_AFLAGS: '-sname api@h.shop.test' } }).message).toBe(
      "$ERL_AFLAGS's -sname asks for a short name, but 'api@h.shop.test' has a dotted host; give --node-name api@h",
    );
  });

  test('a --node-name that is no node name, or a host name that makes none', () => {
    expect(refusal({ nodeName: 'api' }).message).toBe("--node-name: 'api' is not a node name (alive@host)");
    expect(refusal({ nodeName: 'api@' }).message).toBe("--node-name: 'api@' is not a node name (alive@host)");
    expect(refusal({ command: ['erl', '-name', 'api@bad host'] }).message).toMatch(/^the command's -name: 'api@bad host' is not a node name/);
    expect(refusal({ hostname: 'my_host.shop.test' }).message).toBe(
      "this host's name 'my_host.shop.test' makes no node name ('api@my_host.shop.test'): give --node-name ALIVE@HOST",
    );
    expect(refusal({ hostname: '' }).message).toMatch(/^this host's name '' makes no node name \('api@'\)/);
    // --node-name spares the host name.
    expect(name({ hostname: 'my_host', nodeName: 'api@good-host' })).toBe('api@good-host');
  });

  test("another group's alive name is its own", () => {
    const jobs = validateGroupManifest({ ...validGroupManifest(), group: { alive: 'jobs' } });
    expect(replicaNodeName(jobs, { command: ['erl'], env: {}, hostname: 'h1.x' })).toBe('jobs@h1.x');
    const api = { nodeName: 'api@h1.x', command: ['erl'], env: {}, hostname: 'h1.x' };
    expect(() => replicaNodeName(jobs, api)).toThrow(/its node names are jobs@HOST/);
  });
});
