// The generated TypeScript client (src/client) against a live server, under Node's own test runner:
// the path a shopper takes, and an error that comes back as a typed `Problem`. The suite launches
// it (tests/clients/test_typescript_client.py) with STOREFRONT_URL and STOREFRONT_MAIL_DIR, the
// server's local mail sink.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { client } from '../src/client/client.gen.js';
import {
  getOrder,
  listItems,
  login,
  placeOrder,
  register,
  verifyEmail,
  type OrderIn,
  type Problem,
} from '../src/client/index.js';

const baseUrl = required('STOREFRONT_URL');
const mailDir = required('STOREFRONT_MAIL_DIR');
const itemId = required('STOREFRONT_ITEM_ID');
const stock = Number(required('STOREFRONT_STOCK'));
const password = 'correct horse battery';

function required(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set`);
  return value;
}

// The token of the link mailed to `email`: the sink keeps each message as an .eml file whose text
// part is quoted-printable (soft line breaks, `=` written `=3D`).
async function tokenFor(email: string): Promise<string> {
  for (let tries = 0; tries < 300; tries++) {
    for (const name of readdirSync(mailDir).filter((file) => file.endsWith('.eml'))) {
      const text = readFileSync(join(mailDir, name), 'utf8').replace(/=\r?\n/g, '').replaceAll('=3D', '=');
      const token = text.split(/\r?\n/).includes(`To: ${email}`) && /[?&]token=([\w-]+)/.exec(text)?.[1];
      if (token) return token;
    }
    await sleep(50);
  }
  throw new Error(`no link mailed to ${email}`);
}

test('a shopper orders through the TypeScript client', async () => {
  client.setConfig({ baseUrl, throwOnError: false });
  const email = `typescript-client-${randomUUID()}@example.com`;
  const registered = await register({ body: { email, password, full_name: 'TypeScript Client' } });
  assert.equal(registered.response.status, 202);
  const verified = await verifyEmail({ body: { token: await tokenFor(email) } });
  assert.equal(verified.response.status, 204);
  const { data: tokens } = await login({ body: { email, password } });
  assert.ok(tokens);
  client.setConfig({ auth: () => tokens.access_token });

  const { data: page } = await listItems({ query: { limit: 100 } });
  const item = page?.items.find((candidate) => candidate.id === itemId);
  assert.ok(item);
  const order: OrderIn = { lines: [{ item_id: item.id, quantity: 2 }] };
  const key = randomUUID();
  const placed = await placeOrder({ body: order, headers: { 'Idempotency-Key': key } });
  assert.equal(placed.response.status, 201);
  assert.ok(placed.data);
  const again = await placeOrder({ body: order, headers: { 'Idempotency-Key': key } });
  assert.equal(again.response.headers.get('Idempotent-Replayed'), 'true');
  assert.equal(again.data?.id, placed.data.id);

  const { data: read } = await getOrder({ path: { order_id: placed.data.id } });
  assert.equal(read?.status, 'placed');
  assert.equal(read?.total_cents, 2 * item.price_cents);
  assert.deepEqual(read?.lines.map((line) => [line.item_id, line.quantity]), [[item.id, 2]]);

  const tooMany: OrderIn = { lines: [{ item_id: item.id, quantity: stock }] };
  const refused = await placeOrder({ body: tooMany, headers: { 'Idempotency-Key': randomUUID() } });
  assert.equal(refused.response.status, 409);
  const problem: Problem | undefined = refused.error;
  assert.equal(problem?.type, '/problems/out-of-stock');
  assert.deepEqual(problem?.item_ids, [itemId]);
  assert.equal(problem?.request_id, refused.response.headers.get('X-Request-ID'));
});
