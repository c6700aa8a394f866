-- Each order's seats that are not adult tickets, with their types ({"A2": "child"}); orders
-- made before ticket types were all adult: '{}'.
ALTER TABLE order_history ADD COLUMN ticket_types jsonb NOT NULL DEFAULT '{}';
