// EdxForum.contents: the forum posts (threads and comments), anonymised (docs/original.md#job-forum),
// in the layout the original's forum extractor created at every refresh.
import { defineTable } from '../table.js';

export const ForumContents = defineTable({
  name: 'contents',
  database: 'EdxForum',
  columns: [
    "forum_post_id VARCHAR(40) DEFAULT 'unavailable'",
    "anon_screen_name VARCHAR(40) DEFAULT 'anon_screen_name_redacted'",
    "type VARCHAR(20) DEFAULT ''",
    "anonymous VARCHAR(10) DEFAULT ''",
    "anonymous_to_peers VARCHAR(10) DEFAULT ''",
    "at_position_list VARCHAR(200) DEFAULT ''",
    "forum_uid VARCHAR(40) DEFAULT ''",
    'body MEDIUMTEXT',
    "course_display_name VARCHAR(255) DEFAULT ''",
    'created_at DATETIME NULL',
    'votes TEXT',
    'count INT DEFAULT 0',
    'down_count INT DEFAULT 0',
    'up_count INT DEFAULT 0',
    'up TEXT NULL',
    'down TEXT NULL',
    'comment_thread_id VARCHAR(255) NULL',
    'parent_id VARCHAR(255) NULL',
    'parent_ids VARCHAR(255) NULL',
    'sk VARCHAR(255) NULL',
    "confusion VARCHAR(20) DEFAULT ''",
    "happiness VARCHAR(20) DEFAULT ''",
  ],
  // change: InnoDB utf8mb4 (was MyISAM); forum_post_id (the document's ObjectId) is the primary
  //   key (there was none); body MEDIUMTEXT (was TEXT: a post over 64 KiB failed the insert);
  //   course_display_name VARCHAR(255) (was 100: course-v1 ids are longer); created_at NULL
  //   allowed (a document without a date keeps its row); up and down TEXT (were VARCHAR(200),
  //   which ten voters filled), holding the voters' forum uids instead of their platform ids.
  primaryKey: ['forum_post_id'],
  indexes: [
    ['contentsAnonIdx', 'anon_screen_name'],
    ['contentsCourseIdx', 'course_display_name'],
    ['contentsThreadIdx', 'comment_thread_id'],
    ['contentsCreatedIdx', 'created_at'],
  ],
});
