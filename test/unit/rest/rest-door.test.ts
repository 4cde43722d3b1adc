// What the server knows of the REST door without loading it must agree with the door itself.
import { REST_METHODS, REST_MOUNTS } from '../../../src/rest/rest-door';
import { REST_ROUTES } from '../../../src/rest/rest.routes';

test('the methods announced to CORS preflights are exactly those of the route table', () => {
  expect([...REST_METHODS].sort()).toEqual([...new Set(REST_ROUTES.map((route) => route.method.toUpperCase()))].sort());
});

test('the door is mounted where the contract says: /admin and the generated client’s /api/llm-gateway/admin', () => {
  expect(REST_MOUNTS).toEqual(['/admin', '/api/llm-gateway/admin']);
});
