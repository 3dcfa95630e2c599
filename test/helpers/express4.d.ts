// express@4 is installed under the alias `express4` so that the tests run against both majors.
// Its API as used here (express(), app.use, app.get) is the same as 5's, so 5's types serve.
declare module 'express4' {
  import express from 'express';
  export default express;
}
