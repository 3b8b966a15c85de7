-- Our own mailboxes are matched case-insensitively (RFC 5321 §2.4 leaves the case of a local
-- part to the host that owns it): intake, login and send-as look addresses up in lower case, and
-- the admin API now stores them that way. Rows written before kept the case they were given.

-- Two mailboxes that differ only in case cannot both survive: refuse, naming them, rather than
-- guess which one holds the mail. (Prisma's migration runner splits scripts at semicolons, so no
-- DO block: the cast of the message to an integer is what fails, and PostgreSQL's error shows it.)
SELECT CAST('mailboxes that differ only in case: ' || string_agg(address, ', ' ORDER BY address)
            || '. Rename or remove one of each, then migrate again.' AS integer)
  FROM (SELECT lower(address) AS address
          FROM (SELECT address FROM accounts UNION ALL SELECT address FROM aliases) AS mailbox
         GROUP BY lower(address)
        HAVING count(*) > 1) AS duplicate
HAVING count(*) > 0;

UPDATE accounts SET address = lower(address) WHERE address <> lower(address);
UPDATE aliases SET address = lower(address) WHERE address <> lower(address);

-- Send-as entries that differ only in case are the same permission: keep one.
DELETE FROM account_send_as s
 WHERE s.address <> lower(s.address)
   AND EXISTS (SELECT 1 FROM account_send_as t
                WHERE t.account_id = s.account_id AND t.id <> s.id
                  AND lower(t.address) = lower(s.address)
                  AND (t.address = lower(t.address) OR t.id < s.id));
UPDATE account_send_as SET address = lower(address) WHERE address <> lower(address);
