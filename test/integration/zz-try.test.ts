import { readFileSync } from 'node:fs';
import { readDatamodel } from '/work/main/test/integration/support/prisma-dmmf';
test('x', () => {
  const dm = readDatamodel(readFileSync('/work/main/prisma/schema.prisma', 'utf8'));
  console.log(JSON.stringify(dm, null, 1));
  expect(() => readDatamodel('model X { id Int @id foo }')).toThrow();
  try { readDatamodel('model X { id Int @id foo }') } catch (e) { console.log(String(e).slice(0,500)) }
});
