-- 0011 (review queue): the staff's list of every product's reviews, newest first, by status
-- or not (the admin app's moderation page).
CREATE INDEX reviews_newest ON reviews(created_at DESC, id);
CREATE INDEX reviews_status_newest ON reviews(status, created_at DESC, id);
