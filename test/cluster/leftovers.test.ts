// A crashed run leaves its namespaces (its processes die with it: parent-death signal); the next
// cluster start removes namespaces whose creating pid is gone, and only those.
import { spawnSync } from 'node:child_process';
import { ip, listNamespaces, removeStaleNamespaces } from '../../support/cluster/netns';

test('namespaces of a dead run are removed at start; a live run\'s are left alone', () => {
  const dead = spawnSync('true').pid;
  const stale = `mx-${dead}-1-app-1`;
  const live = `mx-${process.pid}-99-app-1`;
  ip('netns', 'add', stale);
  ip('netns', 'add', live);
  try {
    ip('-n', stale, 'link', 'add', 'br0', 'type', 'bridge');
    expect(removeStaleNamespaces()).toContain(stale);
    expect(listNamespaces()).not.toContain(stale);
    expect(listNamespaces()).toContain(live);
  } finally {
    for (const ns of [stale, live]) if (listNamespaces().includes(ns)) ip('netns', 'delete', ns);
  }
  expect(listNamespaces().filter((n) => n === stale || n === live)).toEqual([]);
});
