-- floodgate schema, version 2: money moves only through an append-only ledger; red packets are
-- transfers (the creator is debited at creation), created idempotently, and reached by a token.

-- One row per movement of money, written in the transaction that changes the balance it explains.
-- amount_cents is signed (credit > 0, debit < 0); balance_after_cents is the user's balance right
-- after it, so a user's rows replay to the balance. operation_id names what moved the money
-- (topup:<key>, rp:<id>, rp:<id>:grab:<user>, rp:<id>:refund): unique, so a movement is recorded
-- once whatever retries or redeliveries do.
CREATE TABLE ledger (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  kind ENUM('opening', 'top_up', 'packet_debit', 'grab_credit', 'packet_refund') NOT NULL,
  amount_cents BIGINT NOT NULL,
  balance_after_cents BIGINT NOT NULL,
  operation_id VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_ledger_operation (operation_id),
  KEY ix_ledger_user (user_id, id),
  KEY ix_ledger_kind (kind),
  CONSTRAINT fk_ledger_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT ck_ledger_amount CHECK (amount_cents <> 0),
  CONSTRAINT ck_ledger_balance CHECK (balance_after_cents >= 0)
) ENGINE=InnoDB;

-- Opening entries, so a database that had balances before the ledger existed balances from day
-- one: each user's balance, and for each packet not yet refunded the money it still holds (credited
-- and debited to its creator: that money was never debited when the packet was made).
INSERT INTO ledger (user_id, kind, amount_cents, balance_after_cents, operation_id)
  SELECT id, 'opening', balance_cents, balance_cents, CONCAT('opening:user:', id) FROM users WHERE balance_cents <> 0;
INSERT INTO ledger (user_id, kind, amount_cents, balance_after_cents, operation_id)
  SELECT p.creator_id, 'opening', p.remaining_cents, u.balance_cents + p.remaining_cents, CONCAT('opening:rp:', p.id)
    FROM red_packets p JOIN users u ON u.id = p.creator_id
   WHERE p.refunded_at IS NULL AND p.remaining_cents > 0;
INSERT INTO ledger (user_id, kind, amount_cents, balance_after_cents, operation_id)
  SELECT p.creator_id, 'packet_debit', -p.remaining_cents, u.balance_cents, CONCAT('rp:', p.id)
    FROM red_packets p JOIN users u ON u.id = p.creator_id
   WHERE p.refunded_at IS NULL AND p.remaining_cents > 0;

ALTER TABLE users ADD CONSTRAINT ck_users_balance CHECK (balance_cents >= 0);

-- token: 128 random bits, base64url; clients reach a packet by "<id>.<token>", so ids cannot be
-- walked. idempotency_key and request_hash: a retried create answers the same packet, debited once.
ALTER TABLE red_packets
  ADD COLUMN token CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER creator_id,
  ADD COLUMN idempotency_key CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER token,
  ADD COLUMN request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL AFTER idempotency_key,
  ADD UNIQUE KEY uq_red_packets_idempotency (creator_id, idempotency_key);
UPDATE red_packets
   SET token = REPLACE(REPLACE(TRIM(TRAILING '=' FROM TO_BASE64(RANDOM_BYTES(16))), '+', '-'), '/', '_')
 WHERE token IS NULL;
ALTER TABLE red_packets MODIFY token CHAR(22) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
