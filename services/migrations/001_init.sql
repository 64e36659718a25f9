-- floodgate schema, version 1: every table the features use, with the keys they rely on.

CREATE TABLE users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(32) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  role ENUM('user', 'admin') NOT NULL DEFAULT 'user',
  balance_cents BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_users_username (username)
) ENGINE=InnoDB;

CREATE TABLE profiles (
  user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  display_name VARCHAR(64) NOT NULL,
  bio VARCHAR(500) NOT NULL DEFAULT '',
  email VARCHAR(254) NULL,
  phone VARCHAR(32) NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  CONSTRAINT fk_profiles_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

-- One row per user per day: the primary key makes a second sign-in the same day impossible.
CREATE TABLE sign_ins (
  user_id BIGINT UNSIGNED NOT NULL,
  day DATE NOT NULL,
  streak INT UNSIGNED NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (user_id, day),
  CONSTRAINT fk_sign_ins_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

CREATE TABLE products (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sku VARCHAR(64) NOT NULL,
  name VARCHAR(200) NOT NULL,
  description VARCHAR(2000) NOT NULL DEFAULT '',
  price_cents BIGINT UNSIGNED NOT NULL,
  active TINYINT(1) NOT NULL DEFAULT 1,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_products_sku (sku)
) ENGINE=InnoDB;

CREATE TABLE flash_sales (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  price_cents BIGINT UNSIGNED NOT NULL,
  stock INT UNSIGNED NOT NULL,
  remaining INT UNSIGNED NOT NULL,
  per_user_limit INT UNSIGNED NOT NULL,
  starts_at TIMESTAMP(3) NOT NULL,
  ends_at TIMESTAMP(3) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT ck_flash_sales_remaining CHECK (remaining <= stock),
  CONSTRAINT ck_flash_sales_window CHECK (ends_at > starts_at)
) ENGINE=InnoDB;

-- An order comes from a regular purchase (product_id) or a flash sale (flash_sale_id, seq).
-- request_id is the client's idempotency key; (flash_sale_id, user_id, seq) caps a user's orders.
CREATE TABLE orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  request_id CHAR(36) NOT NULL,
  product_id BIGINT UNSIGNED NULL,
  flash_sale_id BIGINT UNSIGNED NULL,
  seq INT UNSIGNED NULL,
  quantity INT UNSIGNED NOT NULL,
  amount_cents BIGINT UNSIGNED NOT NULL,
  status ENUM('confirmed', 'cancelled') NOT NULL DEFAULT 'confirmed',
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_orders_request (request_id),
  UNIQUE KEY uq_orders_sale_user_seq (flash_sale_id, user_id, seq),
  KEY ix_orders_user_newest (user_id, id),
  CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
  CONSTRAINT fk_orders_product FOREIGN KEY (product_id) REFERENCES products (id),
  CONSTRAINT fk_orders_sale FOREIGN KEY (flash_sale_id) REFERENCES flash_sales (id)
) ENGINE=InnoDB;

CREATE TABLE red_packets (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  creator_id BIGINT UNSIGNED NOT NULL,
  amount_cents BIGINT UNSIGNED NOT NULL,
  count INT UNSIGNED NOT NULL,
  remaining_count INT UNSIGNED NOT NULL,
  remaining_cents BIGINT UNSIGNED NOT NULL,
  expires_at TIMESTAMP(3) NOT NULL,
  refunded_at TIMESTAMP(3) NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY ix_red_packets_expiry (refunded_at, expires_at),
  CONSTRAINT fk_red_packets_creator FOREIGN KEY (creator_id) REFERENCES users (id)
) ENGINE=InnoDB;

-- One grab per user per packet.
CREATE TABLE red_packet_grabs (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  packet_id BIGINT UNSIGNED NOT NULL,
  user_id BIGINT UNSIGNED NOT NULL,
  amount_cents BIGINT UNSIGNED NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_grabs_packet_user (packet_id, user_id),
  CONSTRAINT fk_grabs_packet FOREIGN KEY (packet_id) REFERENCES red_packets (id),
  CONSTRAINT fk_grabs_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB;

-- Each catalog publication: the content hash names the static files.
CREATE TABLE catalog_publications (
  version CHAR(16) NOT NULL PRIMARY KEY,
  product_count INT UNSIGNED NOT NULL,
  published_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY ix_catalog_publications_time (published_at)
) ENGINE=InnoDB;

-- Behaviour statistics the tracker service aggregates (per event type, subject and minute).
CREATE TABLE tracking_stats (
  event_type VARCHAR(32) NOT NULL,
  subject VARCHAR(64) NOT NULL,
  minute DATETIME NOT NULL,
  count BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (event_type, subject, minute)
) ENGINE=InnoDB;
