// A user's SSH public keys (origin-server kept them in cloud_users.ssh_keys). Key bodies are checked as
// base64 and typed; what reaches the gears' authorized_keys is the node layer's business.

import { ConflictError, NotFoundError } from "../../../common/errors";
import type { SshKey } from "../model/types";
import {
  SSH_KEY_TYPES,
  validateId,
  validateOneOf,
  validateSshKeyContent,
  validateSshKeyName,
} from "../model/validate";
import { constraintOf, type Queryable } from "./db";
import { newId } from "./secrets";

interface Row {
  id: string;
  user_id: string;
  name: string;
  type: string;
  content: string;
  created_at: Date;
}

const COLUMNS = "id, user_id, name, type, content, created_at";

function toKey(r: Row): SshKey {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    type: r.type,
    content: r.content,
    createdAt: r.created_at,
  };
}

export interface NewSshKey {
  readonly userId: string;
  readonly name: string;
  readonly type: string;
  readonly content: string;
}

export async function addSshKey(q: Queryable, k: NewSshKey): Promise<SshKey> {
  const userId = validateId("user_id", k.userId);
  const name = validateSshKeyName(k.name);
  const type = validateOneOf("type", k.type, SSH_KEY_TYPES);
  const content = validateSshKeyContent(k.content);
  try {
    const { rows } = await q.query<Row>(
      `INSERT INTO ssh_keys (id, user_id, name, type, content) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [newId(), userId, name, type, content],
    );
    return toKey(rows[0]);
  } catch (err) {
    if (constraintOf(err) === "ssh_keys_user_id_name_key") throw new ConflictError(`key '${name}' exists`);
    if (constraintOf(err) === "ssh_keys_user_id_fkey") throw new NotFoundError(`user ${userId} not found`);
    throw err;
  }
}

export async function listSshKeys(q: Queryable, userId: string): Promise<SshKey[]> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM ssh_keys WHERE user_id = $1 ORDER BY name`, [
    validateId("user_id", userId),
  ]);
  return rows.map(toKey);
}

export async function getSshKey(q: Queryable, userId: string, name: string): Promise<SshKey | null> {
  const { rows } = await q.query<Row>(`SELECT ${COLUMNS} FROM ssh_keys WHERE user_id = $1 AND name = $2`, [
    validateId("user_id", userId),
    validateSshKeyName(name),
  ]);
  return rows[0] ? toKey(rows[0]) : null;
}

/** Replaces a key's type and content (PUT user/keys/:name). */
export async function updateSshKey(
  q: Queryable,
  userId: string,
  name: string,
  k: { type: string; content: string },
): Promise<SshKey> {
  const { rows } = await q.query<Row>(
    `UPDATE ssh_keys SET type = $3, content = $4 WHERE user_id = $1 AND name = $2 RETURNING ${COLUMNS}`,
    [
      validateId("user_id", userId),
      validateSshKeyName(name),
      validateOneOf("type", k.type, SSH_KEY_TYPES),
      validateSshKeyContent(k.content),
    ],
  );
  if (!rows[0]) throw new NotFoundError(`key '${name}' not found`);
  return toKey(rows[0]);
}

/** Removes a key; resolves to the removed key, or null if there was none. */
export async function removeSshKey(q: Queryable, userId: string, name: string): Promise<SshKey | null> {
  const { rows } = await q.query<Row>(
    `DELETE FROM ssh_keys WHERE user_id = $1 AND name = $2 RETURNING ${COLUMNS}`,
    [validateId("user_id", userId), validateSshKeyName(name)],
  );
  return rows[0] ? toKey(rows[0]) : null;
}
