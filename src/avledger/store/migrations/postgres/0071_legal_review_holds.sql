-- PostgreSQL text of 0071 (holds gain the reason 'legal-review'). PostgreSQL changes a CHECK
-- constraint in place, so the table is not rebuilt: same columns, rows, ids and references.

ALTER TABLE holds DROP CONSTRAINT holds_reason_check;
ALTER TABLE holds ADD CONSTRAINT holds_reason_check CHECK (reason IN ('complaint', 'obstruction',
    'major-sensitive', 'litigation', 'other', 'legal-review'));
ALTER TABLE holds ADD CONSTRAINT holds_legal_review_scope
    CHECK (reason != 'legal-review' OR scope = 'case');
