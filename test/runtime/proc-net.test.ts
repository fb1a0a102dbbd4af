import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listenersOn, socketTables } from '../../lib/runtime/proc-net';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const row = (i: number, local: string, st: string, inode: number) =>
  `${String(i).padStart(4)}: ${local} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000 0 0 ${inode} 1 0000000000000000 100 0 0 10`;

describe('socketTables', () => {
  test("the listening section of each table, header first; '' for a table that is missing", () => {
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'meshx-proc-'));
    try {
      fs.mkdirSync(path.join(proc, 'net'));
      const rows = [row(0, '0100007F:1111', '0A', 11), row(1, '00000000:2384', '0A', 22), row(2, '0100007F:1111', '06', 0)];
      // Past the listeners the kernel writes no LISTEN row: one here is not read.
      for (let i = 3; i < 2000; i++) rows.push(row(i, '0100007F:C350', i === 1999 ? '0A' : '06', i === 1999 ? 99 : 0));
      fs.writeFileSync(path.join(proc, 'net', 'tcp'), [HEADER, ...rows].join('\n') + '\n');
      const [tcp, tcp6] = socketTables(proc);
      expect(tcp.split('\n')).toEqual([HEADER, rows[0], rows[1]]);
      expect(tcp6).toBe('');
      expect([...listenersOn(tcp, 0x1111)]).toEqual([['11', '127.0.0.1']]);
      expect([...listenersOn(tcp, 0xc350)]).toEqual([]);
    } finally {
      fs.rmSync(proc, { recursive: true, force: true });
    }
  });
});
