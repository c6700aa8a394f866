-- Where the pay page sends the customer back (to the merchant's app), as a real provider
-- takes it when a payment is opened.
ALTER TABLE sandbox_payments ADD COLUMN return_url text;
