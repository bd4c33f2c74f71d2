//! Flask: `app/main/forms.py`.

use serde::Deserialize;

use crate::domain::PostBody;
use crate::form::FormView;

/// Flask: `PostForm`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PostInput {
    pub post: String,
}

pub const POST_FIELDS: &[&str] = &["post"];

impl PostInput {
    pub fn parse(self) -> Result<PostBody, FormView> {
        PostBody::parse(&self.post).map_err(|e| {
            let mut view = FormView::new(POST_FIELDS).value("post", &self.post);
            view.error("post", e);
            view
        })
    }
}
