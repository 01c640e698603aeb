-- Self-assessment answers of `shiplog guide assess`: one row per capability statement and day.
--
-- `capability` is a dora.dev slug, `statement` its 1-based number in the capability's list,
-- `answered_on` a UTC calendar day as YYYY-MM-DD text, `rating` 1 (strongly disagree) to 5
-- (strongly agree). Answering again on the same day replaces the row; another day adds one.

CREATE TABLE guide_assessments (
    capability  TEXT    NOT NULL,
    statement   INTEGER NOT NULL,
    answered_on TEXT    NOT NULL,
    rating      INTEGER NOT NULL,
    PRIMARY KEY (capability, statement, answered_on)
);
